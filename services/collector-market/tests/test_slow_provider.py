"""A slow or hung provider does not hold the other providers' prices back: a price cycle waits
for most of its interval, publishes what it has, and the late provider's ticks follow when (if)
they come. Real NATS, real HTTP to the replay server's recorded routes, the real collector."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from nats.aio.client import Client as NatsClient

from cryptohub.collector_market.app import open_collector
from cryptohub.collector_market.settings import LimitOverride, Settings
from cryptohub.common import subjects
from cryptohub.common.events import PriceTick, decode
from cryptohub.common.replay import Fault, ReplayServer

TICKER = "/api/v3/ticker/24hr"
ASKED = ("coingecko", "binance", "kraken")  # coingecko: the watch list (its 2022 ticks are stale)
OFF = [
    "cryptocompare",
    "cryptocompare_data",
    "coinmarketcap",
    "coinpaprika",
    "coincap",
    "defillama",
    "defillama_coins",
]
INTERVAL_S = 0.3


@asynccontextmanager
async def collecting(
    nats_url: str, nc: NatsClient, replay: ReplayServer
) -> AsyncIterator[list[tuple[float, PriceTick]]]:
    """The collector on the recordings; BTC ticks as they are published (monotonic arrival)."""
    seen: list[tuple[float, PriceTick]] = []

    async def on(msg: Any) -> None:
        event = decode(msg.data)
        if isinstance(event, PriceTick):
            seen.append((time.monotonic(), event))

    values: dict[str, Any] = {
        "nats_url": nats_url,
        "log_json": False,
        "publish_timeout_s": 2.0,
        "watch_top_n": 5,
        "price_interval_s": INTERVAL_S,
        "price_sources": 3,
        "consensus_max_age_s": 1.5,
        "consensus_max_spread_pct": 1000.0,  # Binance (2026 testnet) and Kraken (2025) disagree
        "candle_symbols": [],
        "global_interval_s": 600.0,
        "tvl_interval_s": 600.0,
        "disabled_providers": OFF,
        "provider_limits": {p: LimitOverride(per_minute=600_000) for p in ASKED},
    }
    env = {f"CRYPTOHUB_{p.upper()}_BASE_URL": replay.base_url(p) for p in ASKED}
    sub = await nc.subscribe(subjects.price("btc"), cb=on)
    stop = asyncio.Event()
    try:
        async with open_collector(Settings(**values), env) as collector:
            task = asyncio.create_task(collector.run(stop))
            try:
                yield seen
            finally:
                stop.set()
                async with asyncio.timeout(10):  # a hung call does not hold the shutdown
                    await task
    finally:
        await sub.unsubscribe()


def consensus(seen: list[tuple[float, PriceTick]], since: float) -> list[PriceTick]:
    return [t for at, t in seen if at >= since and t.source == "consensus"]


async def until(condition: Any, within: float, what: str) -> None:
    try:
        async with asyncio.timeout(within):
            while not condition():  # noqa: ASYNC110 - a subscription callback feeds it
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {within}s: {what}") from None


async def test_a_hung_provider_does_not_stall_prices_and_is_not_asked_again_meanwhile(
    fresh_nats: str, nc: NatsClient, replay_server: ReplayServer
) -> None:
    async with collecting(fresh_nats, nc, replay_server) as seen:
        await until(
            lambda: any(t.contributors == ("binance", "kraken") for t in consensus(seen, 0)),
            15,
            "a consensus of Binance and Kraken",
        )
        replay_server.inject("binance", TICKER, Fault(hang=True))
        calls = replay_server.request_count("binance", TICKER)
        hung_at = time.monotonic()
        await asyncio.sleep(3.0)  # ten cycles; Binance's hung call waits on its 10 s read timeout

        during = consensus(seen, hung_at)
        assert len(during) >= 5, "consensus kept coming every cycle"
        assert during[-1].contributors == ("kraken",), "Binance's last tick aged out"
        assert replay_server.request_count("binance", TICKER) == calls + 1, "asked once, not again"


async def test_a_slow_providers_ticks_are_published_when_they_come(
    fresh_nats: str, nc: NatsClient, replay_server: ReplayServer
) -> None:
    async with collecting(fresh_nats, nc, replay_server) as seen:
        await until(lambda: consensus(seen, 0), 15, "a consensus")
        replay_server.inject("binance", TICKER, Fault(delay_s=0.6))  # twice the interval
        slowed_at = time.monotonic()
        await asyncio.sleep(2.5)

        late = [t for at, t in seen if at >= slowed_at + 0.7 and t.source == "binance"]
        assert late, "Binance's slow answers were published"
        assert len(consensus(seen, slowed_at)) >= 5, "without holding the cycle back"
        assert any("binance" in t.contributors for t in consensus(seen, slowed_at + 0.7))
