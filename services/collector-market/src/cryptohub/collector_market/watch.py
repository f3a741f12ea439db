"""Keeps the watch list and the coin index current: refreshed on start and periodically."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from cryptohub.collector_market.assets import AssetBook, Coin, CoinIndex
from cryptohub.collector_market.capability import Capability
from cryptohub.collector_market.watchlist import ListedCoin, build_watchlist
from cryptohub.common.providers import PoolExhaustedError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WatchState:
    """The current watch list (replaced whole on refresh) and CoinGecko's coin index."""

    book: AssetBook = field(default_factory=lambda: AssetBook(()))
    index: CoinIndex | None = None
    said: set[str] = field(default_factory=set)  # left-out notes already logged


class WatchJob:
    """Refreshes `state` from the ranking pool (CoinGecko first, others if it fails)."""

    def __init__(
        self,
        ranking: Capability[int, list[ListedCoin]],
        coins: Capability[None, list[Coin]],
        state: WatchState,
        *,
        top_n: int,
        extra: list[str],
    ) -> None:
        self._ranking = ranking
        self._coins = coins
        self.state = state
        self._top_n = top_n
        self._extra = extra

    async def refresh_index(self, at: datetime) -> None:
        try:
            result = await self._coins.one(None)
        except PoolExhaustedError:
            return
        if result is not None:
            self.state.index = CoinIndex(result.value)
            log.info("coin index: %d coins from %s", len(self.state.index), result.provider)

    async def refresh(self, at: datetime) -> None:
        if self.state.index is None:
            await self.refresh_index(at)
        try:
            result = await self._ranking.one(self._top_n)
        except PoolExhaustedError:
            log.warning("watch list not refreshed: no ranking provider answered")
            return
        if result is None:
            return
        watch = build_watchlist(
            result.value, top_n=self._top_n, extra=self._extra, index=self.state.index
        )
        before = {a.coingecko_id for a in self.state.book.assets}
        after = {a.coingecko_id for a in watch.book.assets}
        self.state.book = watch.book
        for note in watch.left_out:
            if note not in self.state.said:
                self.state.said.add(note)
                log.info("not watched: %s", note)
        if before != after:
            log.info(
                "watch list from %s: %d assets (%d added, %d removed)",
                result.provider,
                len(after),
                len(after - before),
                len(before - after),
            )
