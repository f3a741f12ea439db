"""Health and the market collector together, on a NATS of their own and the replay server: a
provider that starts failing goes offline, the collector stops calling it, and once the fault
is gone the half-open probe brings it back online."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from cryptohub.collector_market.app import open_collector
from cryptohub.collector_market.settings import LimitOverride
from cryptohub.collector_market.settings import Settings as CollectorSettings
from cryptohub.common import subjects
from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.events import (
    ProviderStateRecord,
    ProviderStatusChange,
    decode,
    decode_as,
)
from cryptohub.common.replay import Fault, ReplayServer
from cryptohub.common.streams import PROVIDER, PROVIDER_STATE_KV
from cryptohub.common.testing.replay import find_provider_fixtures
from cryptohub.health.app import create_service
from cryptohub.health.settings import Settings as HealthSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

RECORDED = find_provider_fixtures(Path(__file__))
# Providers that need no key and answer from recordings; the others are switched off.
ACTIVE = ("coingecko", "binance", "kraken", "coinpaprika")
SWITCHED_OFF = [
    "coinmarketcap",
    "coincap",
    "cryptocompare",
    "cryptocompare_data",
    "defillama",
    "defillama_coins",
]
COOLDOWN_S = 2.5


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[str]:
    """A NATS server of this test's own: KV provider_state and the attempt stream start empty."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def served(replay_server: ReplayServer) -> ReplayServer:
    """Recorded bodies on the paths the collector asks (the recorded routes match other queries,
    so the same recorded bytes are added for these)."""
    add = replay_server.add_route

    def recorded(name: str) -> bytes:
        return (RECORDED / name).read_bytes()

    add(
        "binance",
        "GET",
        "/api/v3/ticker/24hr",
        recorded("binance/ticker_24hr_btcusdt_testnet.json"),
    )
    add("kraken", "GET", "/0/public/Ticker", recorded("kraken/ticker_xbtusdt.json"))
    add(
        "coingecko",
        "GET",
        "/api/v3/simple/price",
        recorded("coingecko/simple_price_bitcoin_usd.json"),
    )
    add("coinpaprika", "GET", "/v1/tickers", recorded("coinpaprika/tickers_btc-bitcoin_usd.json"))
    return replay_server


@pytest.fixture
async def nc(own_nats: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(own_nats, connect_timeout=5)
    try:
        yield client
    finally:
        await client.close()


def collector_settings(nats_url: str) -> CollectorSettings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "log_json": False,
        "publish_timeout_s": 2.0,
        "watch_top_n": 20,
        "watch_refresh_s": 600.0,
        "coins_index_refresh_s": 600.0,
        "price_interval_s": 0.3,
        "price_sources": 8,
        "consensus_max_spread_pct": 1000.0,  # recordings from different years
        "candle_symbols": ["btc"],
        "candle_intervals": ["1m"],
        "candle_backfill": 5,
        "candle_min_poll_s": 30.0,
        "candle_max_poll_s": 60.0,
        "global_interval_s": 600.0,
        "tvl_interval_s": 600.0,
        "disabled_providers": SWITCHED_OFF,
        "provider_limits": {p: LimitOverride(per_second=100) for p in ACTIVE},
    }
    return CollectorSettings(**values)


def health_settings(nats_url: str) -> HealthSettings:
    return HealthSettings(
        nats_url=nats_url,
        log_json=False,
        health_degraded_consecutive_failures=1,
        health_offline_consecutive_failures=2,  # before kraken's own breaker (5) would open
        health_cooldown_s=COOLDOWN_S,
        health_half_open_successes=2,
        health_tick_s=0.05,
        health_state_refresh_s=0.0,
        health_alert_group_wait_s=0.2,
    )


async def record_of(nc: NatsClient, provider: str) -> ProviderStateRecord | None:
    kv = await nc.jetstream().key_value(PROVIDER_STATE_KV.bucket)
    try:
        entry = await kv.get(provider)
    except NotFoundError:  # no entry yet
        return None
    return decode_as(entry.value or b"", ProviderStateRecord)


async def wait_state(
    nc: NatsClient, provider: str, state: str, within: float
) -> ProviderStateRecord:
    async with asyncio.timeout(within):
        while True:
            record = await record_of(nc, provider)
            if record is not None and record.state == state:
                return record
            await asyncio.sleep(0.03)


async def statuses(nc: NatsClient, provider: str) -> list[tuple[str, str]]:
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        subjects.provider_status(provider),
        stream=PROVIDER.name,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, mem_storage=True),
    )
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        msgs = await sub.fetch(pending, timeout=2) if pending else []
    finally:
        await sub.unsubscribe()
    events = [decode(m.data) for m in msgs]
    return [(e.previous, e.current) for e in events if isinstance(e, ProviderStatusChange)]


async def test_failing_provider_goes_offline_collector_stops_calling_and_probe_brings_it_back(
    own_nats: str, served: ReplayServer, nc: NatsClient
) -> None:
    env = {f"CRYPTOHUB_{p.upper()}_BASE_URL": served.base_url(p) for p in ACTIVE}
    broker = create_broker(health_settings(own_nats))
    await broker.connect()
    await prepare_jetstream(broker.connection)
    stop = asyncio.Event()
    async with httpx.AsyncClient() as http:
        health = await create_service(health_settings(own_nats), broker, http)
        await health.start()
        try:
            async with open_collector(collector_settings(own_nats), env) as collector:
                running = asyncio.create_task(collector.run(stop))
                try:
                    await wait_state(nc, "kraken", "online", within=20)
                    served.inject("kraken", "*", Fault(status=503))

                    offline = await wait_state(nc, "kraken", "offline", within=20)
                    assert offline.next_probe_at == offline.since + timedelta(seconds=COOLDOWN_S)
                    await asyncio.sleep(0.6)  # a call already under way may finish its retries
                    calls = served.request_count("kraken")
                    # Several price cycles (0.3 s) while kraken is offline: none calls it.
                    await asyncio.sleep(COOLDOWN_S - 0.6 - 0.5)
                    still = await record_of(nc, "kraken")
                    assert still is not None
                    assert still.state == "offline"
                    assert served.request_count("kraken") == calls, "the collector skips it"
                    assert served.request_count("binance") > 0

                    served.clear_faults("kraken")
                    await wait_state(nc, "kraken", "half_open", within=20)
                    await wait_state(nc, "kraken", "online", within=20)
                    assert served.request_count("kraken") >= calls + 2, "probed, and answered"
                finally:
                    stop.set()
                    async with asyncio.timeout(15):
                        await running
        finally:
            await health.stop()
            await broker.stop()
    assert await statuses(nc, "kraken") == [
        ("online", "degraded"),
        ("degraded", "offline"),
        ("offline", "half_open"),
        ("half_open", "online"),
    ]
