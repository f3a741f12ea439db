"""The outage drill with the foundation's provider pool: a provider the replay server makes
fail goes offline, the pool stops calling it, and the half-open probe brings it back once it
is fixed.

The pool reads health's KV through KvProviderStates and its clients publish their attempts to
NATS like any collector's. The same drill with the real market collector is in the root
tests/test_health_with_collector.py."""

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from cryptohub.common.bus.publish import AttemptPublisher, EventPublisher
from cryptohub.common.providers import (
    BreakerPolicy,
    KvProviderStates,
    ParseContext,
    PoolMember,
    ProviderClient,
    ProviderPool,
    ProviderSpec,
    Request,
    RetryPolicy,
    resolve,
)
from cryptohub.common.replay import Fault, ReplayServer
from cryptohub.common.testing.replay import find_provider_fixtures

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Make = Callable[..., Any]
RECORDED = find_provider_fixtures(Path(__file__).parent)


def coingecko_price(body: bytes, ctx: ParseContext) -> float:
    return float(msgspec.json.decode(body)["bitcoin"]["usd"])


def binance_price(body: bytes, ctx: ParseContext) -> float:
    return float(msgspec.json.decode(body)["price"])


async def test_failing_provider_is_skipped_while_offline_and_back_after_the_probe(
    make_health: Make, replay_server: ReplayServer, attempts: EventPublisher
) -> None:
    # Two providers under names of their own, serving the recorded CoinGecko and Binance bodies.
    tag = secrets.token_hex(3)
    primary, backup = f"gecko{tag}", f"binance{tag}"
    replay_server.add_route(
        primary,
        "GET",
        "/api/v3/simple/price",
        (RECORDED / "coingecko" / "simple_price_bitcoin_usd.json").read_bytes(),
    )
    replay_server.add_route(
        backup,
        "GET",
        "/api/v3/ticker/price",
        (RECORDED / "binance" / "ticker_price_btcusdt.json").read_bytes(),
    )
    h = make_health(primary, backup, health_cooldown_s=1.0)
    await h.start()
    kv = await h.js.key_value(h.settings.health_state_bucket)
    states = KvProviderStates(kv)
    await states.start()
    sink = AttemptPublisher(attempts)
    sink.start()
    # One HTTP try per call and a local breaker that never opens: only health takes it out.
    retry = RetryPolicy(max_attempts=1)
    breaker = BreakerPolicy(failure_threshold=1000)
    async with httpx.AsyncClient() as http:

        def client(name: str) -> ProviderClient:
            spec = ProviderSpec(
                name=name,
                category="market",
                base_url=replay_server.base_url(name),
                retry=retry,
                breaker=breaker,
            )
            return ProviderClient(resolve(spec, {}), http, attempts=sink, source="drill")

        pool: ProviderPool[None, float] = ProviderPool(
            "prices",
            [
                PoolMember(
                    client(primary),
                    lambda _: Request(
                        "price", "/api/v3/simple/price", {"ids": "bitcoin", "vs_currencies": "usd"}
                    ),
                    coingecko_price,
                    0,
                ),
                PoolMember(
                    client(backup),
                    lambda _: Request("price", "/api/v3/ticker/price", {"symbol": "BTCUSDT"}),
                    binance_price,
                    1,
                ),
            ],
            states=states,
        )
        try:
            assert (await pool.call(None)).provider == primary
            replay_server.inject(primary, "*", Fault(status=503))

            # Every call fails over to the backup until health takes the primary out.
            async with asyncio.timeout(10):
                while states.state_of(primary) != "offline":
                    result = await pool.call(None)
                    assert (result.provider, result.value) == (backup, 60740.0)
                    await asyncio.sleep(0.02)
            calls_when_offline = replay_server.request_count(primary)
            for _ in range(5):
                result = await pool.call(None)
                assert result.provider == backup
                assert result.failures[0].message == "marked offline by health"
            assert replay_server.request_count(primary) == calls_when_offline, (
                "no call reaches an offline provider"
            )

            replay_server.clear_faults(primary)
            async with asyncio.timeout(10):
                while states.state_of(primary) != "half_open":  # noqa: ASYNC110 - polls what another process writes
                    await asyncio.sleep(0.02)
            # Half-open: the pool tries the primary again; two good probes bring it back.
            async with asyncio.timeout(10):
                while states.state_of(primary) != "online":
                    result = await pool.call(None)
                    assert (result.provider, result.value) == (primary, 49253.0)
                    await asyncio.sleep(0.02)
        finally:
            await sink.stop()
            await states.stop()

    assert await h.statuses(primary) == [
        ("online", "degraded"),
        ("degraded", "offline"),
        ("offline", "half_open"),
        ("half_open", "online"),
    ]
    assert await h.statuses(backup) == []
    alerts = await h.wait_alerts(primary, 2)
    assert [(a.rule, a.state) for a in alerts] == [
        ("provider_offline", "open"),
        ("provider_offline", "resolved"),
    ]
