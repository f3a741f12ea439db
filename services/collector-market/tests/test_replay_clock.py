"""Replay mode (`CRYPTOHUB_REPLAY`): recorded quotes are judged on the recordings' own clock and
their consensus keeps the recorded time; live mode refuses the same quotes as stale."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from cryptohub.collector_market.app import open_collector
from cryptohub.collector_market.consensus import Quote
from cryptohub.collector_market.prices import clock
from cryptohub.collector_market.settings import LimitOverride, Settings
from cryptohub.common import subjects
from cryptohub.common.events import PriceTick, decode
from cryptohub.common.replay import ReplayServer

SLOT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
NOW = SLOT + timedelta(milliseconds=300)
# Everything but CoinGecko off: its coins/markets recording (2022-02-23) prices the watch list.
OFF = [
    "binance",
    "kraken",
    "cryptocompare",
    "cryptocompare_data",
    "coinmarketcap",
    "coinpaprika",
    "coincap",
    "defillama",
    "defillama_coins",
]


def test_live_judges_on_the_wall_clock_and_dates_the_consensus_at_the_slot() -> None:
    quotes = [Quote("a", 1.0, SLOT - timedelta(days=900))]
    assert clock(quotes, slot=SLOT, now=NOW, replay=False) == (NOW, SLOT)


def test_replay_judges_and_dates_at_the_newest_recorded_quote() -> None:
    recorded = datetime(2022, 2, 23, 11, 30, tzinfo=UTC)
    quotes = [Quote("a", 1.0, recorded - timedelta(days=20)), Quote("b", 1.0, recorded)]
    assert clock(quotes, slot=SLOT, now=NOW, replay=True) == (recorded, recorded)


def test_replay_never_dates_a_consensus_after_its_slot() -> None:
    quotes = [Quote("a", 1.0, SLOT + timedelta(seconds=3))]
    assert clock(quotes, slot=SLOT, now=NOW, replay=True) == (SLOT, SLOT)


def test_replay_without_quotes_falls_back_to_the_live_clock() -> None:
    assert clock([], slot=SLOT, now=NOW, replay=True) == (NOW, SLOT)


def settings(nats_url: str, *, replay: bool) -> Settings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "log_json": False,
        "replay": replay,
        "publish_timeout_s": 2.0,
        "watch_top_n": 5,
        "price_interval_s": 0.3,
        "candle_symbols": [],
        "global_interval_s": 600.0,
        "tvl_interval_s": 600.0,
        "tvl_top_n": 0,
        "disabled_providers": OFF,
        "provider_limits": {"coingecko": LimitOverride(per_second=100)},
    }
    return Settings(**values)


async def eth_ticks(
    nats_url: str, nc: NatsClient, replay_server: ReplayServer, *, replay: bool, cycles: int
) -> list[PriceTick]:
    """ETH ticks published while the collector runs `cycles` price cycles on the recordings."""
    seen: list[PriceTick] = []

    async def on(msg: Any) -> None:
        event = decode(msg.data)
        if isinstance(event, PriceTick):
            seen.append(event)

    sub = await nc.subscribe(subjects.price("eth"), cb=on)
    env = {"CRYPTOHUB_COINGECKO_BASE_URL": replay_server.base_url("coingecko")}
    stop = asyncio.Event()
    try:
        async with open_collector(settings(nats_url, replay=replay), env) as collector:
            task = asyncio.create_task(collector.run(stop))
            try:
                async with asyncio.timeout(20):  # the watch list asks once, then each cycle
                    await replay_server.wait_for_requests(
                        "coingecko", "/api/v3/coins/markets", count=cycles + 1
                    )
                await asyncio.sleep(0.3)  # the last cycle publishes
            finally:
                stop.set()
                async with asyncio.timeout(15):
                    await task
    finally:
        await sub.unsubscribe()
    return seen


async def test_replay_publishes_the_consensus_of_recorded_quotes_dated_when_recorded(
    fresh_nats: str, nc: NatsClient, replay_server: ReplayServer
) -> None:
    started = time.monotonic()
    ticks = await eth_ticks(fresh_nats, nc, replay_server, replay=True, cycles=3)
    raw = [t for t in ticks if t.source == "coingecko"]
    agreed = [t for t in ticks if t.source == "consensus"]
    assert raw, "coingecko priced ETH from its recording"
    assert agreed, f"no consensus within {time.monotonic() - started:.1f}s"
    recorded = raw[0].observed_at
    assert recorded < datetime(2023, 1, 1, tzinfo=UTC)  # the 2022 recording's own time
    for tick in agreed:
        assert tick.observed_at == recorded, "dated when recorded, never now"
        assert tick.price == raw[0].price
        assert tick.contributors == ("coingecko",)
        assert tick.confidence == pytest.approx(0.25)  # one provider: low confidence


async def test_live_mode_refuses_the_same_recorded_quotes_as_stale(
    fresh_nats: str, nc: NatsClient, replay_server: ReplayServer
) -> None:
    ticks = await eth_ticks(fresh_nats, nc, replay_server, replay=False, cycles=3)
    assert any(t.source == "coingecko" for t in ticks)
    assert not [t for t in ticks if t.source == "consensus"]
