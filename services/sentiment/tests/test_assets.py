"""Asset windows in KV: concurrent replicas lose no article; windows roll on with time."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from cryptohub.common.bus.broker import prepare_jetstream
from cryptohub.common.bus.publish import EventPublisher
from cryptohub.common.testing import unique_name
from cryptohub.sentiment.assets import AssetWindows
from cryptohub.sentiment.buckets import ASSETS_TTL, ensure_bucket
from cryptohub.sentiment.refresh import AssetRefresher
from cryptohub.sentiment.scorer import AssetPublisher, WindowSpec
from cryptohub.sentiment.windows import Contribution

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOWS = (
    WindowSpec("1h", timedelta(hours=1), timedelta(minutes=30)),
    WindowSpec("24h", timedelta(hours=24), timedelta(hours=6)),
)


async def test_concurrent_updates_of_one_asset_lose_no_article(js: JetStreamContext) -> None:
    windows = AssetWindows(await ensure_bucket(js, unique_name("assets"), ttl=ASSETS_TTL))
    items = [Contribution(f"a{i}", NOW - timedelta(minutes=i), 0.5, 0.9) for i in range(16)]
    async with asyncio.timeout(20):
        await asyncio.gather(*(windows.add("btc", item, now=NOW) for item in items))
        await windows.add("btc", items[0], now=NOW)  # a redelivered article replaces itself
    stored, _ = await windows.snapshot("btc")
    assert sorted(c.article_id for c in stored) == sorted(i.article_id for i in items)


async def test_refresh_rolls_windows_on_and_forgets_assets_with_no_recent_article(
    js: JetStreamContext, nats_url: str, captured: Any
) -> None:
    windows = AssetWindows(await ensure_bucket(js, unique_name("assets"), ttl=ASSETS_TTL))
    await windows.add("ada", Contribution("x", NOW - timedelta(minutes=10), -0.8, 0.9), now=NOW)
    broker = NatsBroker(nats_url)
    await broker.connect()
    await prepare_jetstream(broker.connection)
    clock: list[datetime] = [NOW + timedelta(hours=2)]
    publisher = AssetPublisher(EventPublisher(broker), WINDOWS, threshold=0.15)
    refresher = AssetRefresher(windows, publisher, period_s=60, clock=lambda: clock[0])
    try:
        async with asyncio.timeout(20):
            assert await refresher.refresh_once() == 1
            await captured.wait_for(lambda: len(captured.assets) == 2)
            two_hours_later = {e.window: e for e in captured.assets}
            assert two_hours_later["1h"].article_count == 0
            assert two_hours_later["1h"].confidence == 0.0
            assert two_hours_later["24h"].article_count == 1
            assert two_hours_later["24h"].label == "bearish"

            clock[0] = NOW + timedelta(hours=25)
            assert await refresher.refresh_once() == 1
            await captured.wait_for(lambda: len(captured.assets) == 4)
            assert [e.article_count for e in captured.assets[2:]] == [0, 0]
            assert await refresher.refresh_once() == 0  # forgotten
    finally:
        await broker.stop()
