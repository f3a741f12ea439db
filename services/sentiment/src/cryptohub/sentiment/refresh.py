"""Keeps AssetSentiment current while no news arrives: windows roll on as time passes."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import nats.errors

from cryptohub.common.bus.publish import PublishError
from cryptohub.sentiment.assets import AssetWindows
from cryptohub.sentiment.scorer import AssetPublisher, utc_now

__all__ = ["AssetRefresher", "refresh_time"]

log = logging.getLogger(__name__)


def refresh_time(now: datetime, period_s: float) -> datetime:
    """`now` floored to the refresh period: every replica refreshing in the same period
    publishes the same fact (same observed_at, so the same Nats-Msg-Id), stored once."""
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % period_s, UTC)


class AssetRefresher:
    """Every `period_s`, republishes the 1h and 24h sentiment of every asset with a window.
    An asset whose articles all aged out is published once more with 0 articles."""

    def __init__(
        self,
        assets: AssetWindows,
        publisher: AssetPublisher,
        *,
        period_s: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._assets = assets
        self._publisher = publisher
        self._period_s = period_s
        self._clock = clock

    async def refresh_once(self) -> int:
        """Publish every asset's windows now; how many assets."""
        now = refresh_time(self._clock(), self._period_s)
        symbols = await self._assets.symbols()
        for symbol in symbols:
            contributions, revision = await self._assets.snapshot(symbol)
            events = await self._publisher.publish(symbol, contributions, now=now)
            if revision is not None and all(e.article_count == 0 for e in events):
                await self._assets.forget(symbol, revision)
        return len(symbols)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._period_s):
                    await stop.wait()
            if stop.is_set():
                return
            try:
                await self.refresh_once()
            except (PublishError, nats.errors.Error, TimeoutError) as exc:
                log.warning(
                    "refreshing asset sentiment failed (%s); next try in %ss",
                    type(exc).__name__,
                    self._period_s,
                )
