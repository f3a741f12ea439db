"""Prices: each cycle asks several providers at once, publishes their raw ticks and, per asset,
the consensus of every provider's fresh tick (`source="consensus"`)."""

import asyncio
import logging
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Final

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.capability import Capability
from cryptohub.collector_market.consensus import Consensus, Policy, Quote, consensus
from cryptohub.collector_market.observation import stamp_with_slot
from cryptohub.collector_market.outbox import Outbox
from cryptohub.collector_market.watch import WatchState
from cryptohub.common.events import PriceTick, RejectedQuote
from cryptohub.common.providers import PoolResult

log = logging.getLogger(__name__)

SOURCE: Final = "consensus"


class LatestTicks:
    """Each provider's latest tick per asset and quote, for the consensus."""

    def __init__(self, usd_quotes: Collection[str]) -> None:
        self._usd_quotes = tuple(usd_quotes)  # in order of preference
        self._ticks: dict[str, dict[tuple[str, str], PriceTick]] = {}

    def add(self, ticks: Iterable[PriceTick]) -> None:
        for tick in ticks:
            if tick.quote not in self._usd_quotes:
                continue
            held = self._ticks.setdefault(tick.symbol, {})
            key = (tick.source, tick.quote)
            if key not in held or tick.observed_at >= held[key].observed_at:
                held[key] = tick

    def quotes(self, symbol: str) -> list[Quote]:
        """One quote per provider: its freshest USD-equivalent tick (USD preferred on a tie)."""
        best: dict[str, PriceTick] = {}
        rank = {q: i for i, q in enumerate(self._usd_quotes)}
        for (provider, _), tick in self._ticks.get(symbol, {}).items():
            held = best.get(provider)
            if held is None or (tick.observed_at, -rank[tick.quote]) > (
                held.observed_at,
                -rank[held.quote],
            ):
                best[provider] = tick
        return [Quote(p, t.price, t.observed_at) for p, t in sorted(best.items())]

    def keep_only(self, symbols: Collection[str]) -> None:
        for symbol in [s for s in self._ticks if s not in symbols]:
            del self._ticks[symbol]


def clock(
    quotes: Collection[Quote], *, slot: datetime, now: datetime, replay: bool
) -> tuple[datetime, datetime]:
    """When quotes are judged fresh, and when their consensus is observed.

    Live: now, and the poll slot. Replay (`CRYPTOHUB_REPLAY`): recorded bodies carry the times
    they were recorded, years ago, so both are the newest quote's time (never after the slot):
    quotes count if they were recorded within the max age of it, and their consensus carries
    that recorded time, never today's. Live data is never judged this way.
    """
    if not replay or not quotes:
        return now, slot
    recorded = min(max(q.observed_at for q in quotes), slot)
    return recorded, recorded


def consensus_tick(symbol: str, result: Consensus, *, at: datetime, now: datetime) -> PriceTick:
    return PriceTick(
        source=SOURCE,
        symbol=symbol,
        price=result.price,
        quote="usd",
        contributors=result.contributors,
        rejected=tuple(
            RejectedQuote(provider=r.provider, price=r.price, deviation_pct=r.deviation_pct)
            for r in result.rejected
        ),
        spread_pct=result.spread_pct,
        confidence=result.confidence,
        observed_at=at,
        received_at=now,
    )


class PriceJob:
    """One price cycle: ask `want` providers for the watch list, publish, then the consensus.

    A cycle waits at most `patience` seconds for its providers (None: for all of them). A
    provider still answering then (slow, or hung until its own timeouts end the call) does not
    hold the others' prices back: its ticks, if it answers, are published when they come and
    count in the next consensus, and it is not asked again until its call is over.
    """

    def __init__(
        self,
        capability: Capability[AssetBook, list[PriceTick]],
        watch: WatchState,
        outbox: Outbox,
        *,
        want: int,
        policy: Policy,
        usd_quotes: Collection[str],
        replay: bool = False,
        patience: float | None = None,
    ) -> None:
        self._capability = capability
        self.patience = patience
        self._late: set[asyncio.Task[None]] = set()
        self._watch = watch
        self._outbox = outbox
        self._want = want
        self._policy = policy
        self._replay = replay
        self.latest = LatestTicks(usd_quotes)
        self._single: set[str] = set()  # symbols whose consensus rests on one provider
        self._undecided: dict[str, str] = {}  # symbol -> why there is no consensus

    async def run(self, at: datetime) -> None:
        book = self._watch.book
        if not len(book):
            log.debug("prices: no watch list yet")
            return
        answers = await self._capability.many(book, self._want, patience=self.patience)
        for lane in answers.late:
            task = asyncio.create_task(self._publish_late(lane, at), name="prices-late")
            self._late.add(task)
            task.add_done_callback(self._late.discard)
        ticks = stamp_with_slot([t for r in answers.results for t in r.value], at)
        self.latest.keep_only({a.symbol for a in book.assets})
        self.latest.add(ticks)
        now = datetime.now(UTC)
        agreed = [
            tick
            for symbol in sorted({t.symbol for t in ticks})
            if (tick := self._consensus(symbol, at, now)) is not None
        ]
        await self._outbox.publish([*ticks, *agreed])
        log.debug(
            "prices at %s: %d ticks from %s, %d consensus",
            at.isoformat(),
            len(ticks),
            ",".join(answers.providers) or "nobody",
            len(agreed),
        )

    async def _publish_late(
        self, lane: "asyncio.Task[PoolResult[list[PriceTick]] | None]", at: datetime
    ) -> None:
        """Publish a late provider's ticks (observed as of the cycle that asked) once it answers;
        the next cycle's consensus counts them."""
        result = await lane
        if result is None:
            return
        ticks = stamp_with_slot(result.value, at)
        self.latest.add(ticks)
        await self._outbox.publish(ticks)
        log.info("prices: %s answered late with %d ticks", result.provider, len(ticks))

    async def close(self) -> None:
        """Stop waiting on late providers (at shutdown)."""
        tasks = list(self._late)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _consensus(self, symbol: str, at: datetime, now: datetime) -> PriceTick | None:
        quotes = self.latest.quotes(symbol)
        judged, at = clock(quotes, slot=at, now=now, replay=self._replay)
        result = consensus(quotes, now=judged, policy=self._policy)
        if not isinstance(result, Consensus):
            if self._undecided.get(symbol) != result.reason:
                self._undecided[symbol] = result.reason
                log.info("no consensus for %s: %s", symbol, result.reason)
            return None
        self._undecided.pop(symbol, None)
        if result.single_source and symbol not in self._single:
            self._single.add(symbol)
            log.info(
                "consensus for %s rests on %s alone: published with low confidence %.2f",
                symbol,
                result.contributors[0],
                result.confidence,
            )
        elif not result.single_source:
            self._single.discard(symbol)
        return consensus_tick(symbol, result, at=at, now=now)
