"""Candles of one symbol and interval: a backfill on start, then incremental polls.

A final candle is published once (the series remembers the newest final it published, and on
start resumes after the newest candle the stream already holds, so a restart does not store
them again). The running candle is published whenever it changed, marked open.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cryptohub.collector_market.capability import Capability
from cryptohub.collector_market.intervals import interval_seconds
from cryptohub.collector_market.observation import stamp_with_slot
from cryptohub.collector_market.outbox import Outbox
from cryptohub.common.events import Candle, Interval
from cryptohub.common.providers import PoolExhaustedError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CandleQuery:
    """Bars from `since` (its open time; None: the latest `limit`)."""

    since: datetime | None
    limit: int


class LastCandle(Protocol):
    """Reads the newest candle the stream holds on a subject (None if none)."""

    async def __call__(self, symbol: str, interval: Interval) -> Candle | None: ...


def _ohlcv(candle: Candle) -> tuple[object, ...]:
    return (candle.open_time, candle.open, candle.high, candle.low, candle.close, candle.volume)


class CandleSeries:
    """Polls one (symbol, interval) series through its pool of providers."""

    def __init__(
        self,
        capability: Capability[CandleQuery, list[Candle]],
        outbox: Outbox,
        *,
        symbol: str,
        interval: Interval,
        backfill: int,
        last_stored: LastCandle | None = None,
    ) -> None:
        self._capability = capability
        self._outbox = outbox
        self.symbol = symbol
        self.interval = interval
        self._step = timedelta(seconds=interval_seconds(interval))
        self._backfill = backfill
        self._last_stored = last_stored
        self.final_until: datetime | None = None  # open time of the newest final published
        self._open: Candle | None = None
        self._resumed = False

    async def _resume(self) -> None:
        self._resumed = True
        if self._last_stored is None:
            return
        stored = await self._last_stored(self.symbol, self.interval)
        if stored is not None:
            self.final_until = stored.open_time - (timedelta(0) if stored.is_final else self._step)
            log.info(
                "candles %s %s: resuming after %s",
                self.symbol,
                self.interval,
                self.final_until.isoformat(),
            )

    def query(self, now: datetime) -> CandleQuery:
        if self.final_until is None:
            return CandleQuery(since=None, limit=self._backfill)
        missing = int((now - self.final_until) / self._step) + 2
        return CandleQuery(since=self.final_until, limit=min(max(missing, 2), self._backfill))

    async def run(self, at: datetime) -> None:
        if not self._resumed:
            await self._resume()
        try:
            result = await self._capability.one(self.query(at))
        except PoolExhaustedError:
            return
        if result is None:
            return
        await self._outbox.publish(self.select(stamp_with_slot(result.value, at)))

    def select(self, candles: list[Candle]) -> list[Candle]:
        """What to publish of an answer: finals not yet published (the latest `backfill` of
        them), and the running candle if it changed."""
        finals = sorted(
            (
                c
                for c in candles
                if c.is_final and (self.final_until is None or c.open_time > self.final_until)
            ),
            key=lambda c: c.open_time,
        )[-self._backfill :]
        if finals:
            self.final_until = finals[-1].open_time
        running = [
            c
            for c in candles
            if not c.is_final and (self.final_until is None or c.open_time > self.final_until)
        ]
        chosen: list[Candle] = list(finals)
        if running:
            latest = max(running, key=lambda c: c.open_time)
            if self._open is None or _ohlcv(self._open) != _ohlcv(latest):
                self._open = latest
                chosen.append(latest)
        return chosen
