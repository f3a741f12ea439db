"""Pools over real provider clients and real HTTP (the replay server): failover within the cycle,
providers skipped while offline in KV provider_state, paused by Retry-After, or out of quota."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from nats.js import JetStreamContext

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.capability import Capability, Source
from cryptohub.collector_market.gate import Gate
from cryptohub.collector_market.providers import binance, coingecko, kraken
from cryptohub.common.events import PriceTick, ProviderStateRecord, encode
from cryptohub.common.providers import (
    KvProviderStates,
    ParseContext,
    PoolExhaustedError,
    ProviderClient,
    ProviderSpec,
    Request,
    RetryPolicy,
    StaticProviderStates,
    resolve,
)
from cryptohub.common.replay import Fault, ReplayServer
from cryptohub.common.streams import ensure_kv

Body = Callable[[str], bytes]
FAST = RetryPolicy(max_attempts=1)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def served(replay_server: ReplayServer, body: Body) -> ReplayServer:
    """Recorded bodies on the paths the collector asks (the recorded routes ask other queries)."""
    replay_server.add_route(
        "binance", "GET", "/api/v3/ticker/24hr", body("binance/ticker_24hr_btcusdt_testnet.json")
    )
    replay_server.add_route("kraken", "GET", "/0/public/Ticker", body("kraken/ticker_xbtusdt.json"))
    replay_server.add_route(
        "coingecko", "GET", "/api/v3/simple/price", body("coingecko/simple_price_bitcoin_usd.json")
    )
    return replay_server


def client(replay: ReplayServer, http: httpx.AsyncClient, spec: ProviderSpec) -> ProviderClient:
    spec = replace(spec, retry=FAST)
    env = {spec.base_url_env_var: replay.base_url(spec.name)}
    return ProviderClient(resolve(spec, env), http, source="test")


def prices(
    replay: ReplayServer,
    http: httpx.AsyncClient,
    book: AssetBook,
    states: StaticProviderStates | KvProviderStates | None = None,
    gates: dict[str, Gate] | None = None,
) -> Capability[AssetBook, list[PriceTick]]:
    gates = gates or {}

    def src(
        spec: ProviderSpec,
        build: Callable[[AssetBook], Request],
        parse: Callable[..., list[PriceTick]],
        priority: int = 0,
    ) -> Source[AssetBook, list[PriceTick]]:
        def bound(raw: bytes, context: ParseContext) -> list[PriceTick]:
            return parse(raw, context, book=book)

        return Source(
            client(replay, http, spec), build, bound, gate=gates.get(spec.name), priority=priority
        )

    return Capability(
        "prices",
        [
            src(binance.SPEC, lambda _: binance.TICKERS, binance.parse_tickers),
            src(kraken.SPEC, lambda _: kraken.TICKERS, kraken.parse_ticker, 1),
            src(
                coingecko.spec("public"),
                lambda b: coingecko.simple_price_request(["bitcoin"]),
                coingecko.parse_simple_price,
                2,
            ),
        ],
        states=states or StaticProviderStates(),
    )


async def test_failing_provider_is_replaced_by_the_next_in_the_same_cycle(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    served.inject("binance", "/api/v3/ticker/24hr", Fault(status=503))
    capability = prices(served, http, majors)
    async with asyncio.timeout(10):
        answers = await capability.many(majors, want=2)
    assert sorted(answers.providers) == ["coingecko", "kraken"]
    assert [(f.provider, f.kind) for f in answers.failures] == [("binance", "http_5xx")]
    async with asyncio.timeout(10):
        single = await capability.one(majors)
    assert single is not None
    assert single.provider == "kraken"
    assert [(f.provider, f.kind) for f in single.failures] == [("binance", "http_5xx")]


async def test_one_answer_fails_over_to_the_next_member(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    served.inject("binance", "/api/v3/ticker/24hr", Fault(body=b"[]"))  # empty: invalid_data
    async with asyncio.timeout(10):
        result = await prices(served, http, majors).one(majors)
    assert result is not None
    assert result.provider == "kraken"
    assert [(f.provider, f.kind) for f in result.failures] == [("binance", "invalid_data")]
    assert [t.price for t in result.value] == [105899.4]


async def test_provider_marked_offline_in_kv_is_skipped(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook, js: JetStreamContext
) -> None:
    await ensure_kv(js)
    kv = await js.key_value("provider_state")
    states = KvProviderStates(kv)
    await states.start()
    try:
        now = datetime.now(UTC)
        record = ProviderStateRecord(provider="binance", state="offline", reason="test", since=now)
        await kv.put("binance", encode(record))
        async with asyncio.timeout(5):
            while states.state_of("binance") != "offline":  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.01)
        capability = prices(served, http, majors, states=states)
        async with asyncio.timeout(10):
            answers = await capability.many(majors, want=3)
            result = await capability.one(majors)
        assert sorted(answers.providers) == ["coingecko", "kraken"]
        assert result is not None
        assert result.provider == "kraken"
        assert served.request_count("binance") == 0
    finally:
        await kv.delete("binance")
        await states.stop()


async def test_429_with_retry_after_skips_the_provider_until_it_expires(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    served.inject("binance", "/api/v3/ticker/24hr", Fault(status=429, retry_after="1", times=1))
    capability = prices(served, http, majors)
    async with asyncio.timeout(10):
        first = await capability.one(majors)
        assert first is not None
        assert first.provider == "kraken"
        assert [(f.provider, f.kind) for f in first.failures] == [("binance", "rate_limited")]
        second = await capability.one(majors)
        assert second is not None
        assert second.provider == "kraken"
        assert served.request_count("binance") == 1
        await asyncio.sleep(1.1)
        third = await capability.one(majors)
    assert third is not None
    assert third.provider == "binance"
    calls = [r.at for r in served.requests if r.provider == "binance"]
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 1.0


async def test_a_spent_quota_allotment_is_skipped_without_a_call(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    gate = Gate("prices", "binance", spacing=3600.0)
    capability = prices(served, http, majors, gates={"binance": gate})
    async with asyncio.timeout(10):
        first = await capability.one(majors)
        second = await capability.one(majors)
    assert first is not None
    assert first.provider == "binance"
    assert second is not None
    assert second.provider == "kraken"
    assert served.request_count("binance") == 1
    assert gate.wait(time.time()) > 0


async def test_nothing_available_is_no_answer_not_an_error(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    states = StaticProviderStates(dict.fromkeys(("binance", "kraken", "coingecko"), "offline"))
    capability = prices(served, http, majors, states=states)
    assert await capability.one(majors) is None
    assert (await capability.many(majors, want=3)).results == ()


async def test_every_member_failing_exhausts_the_pool(
    served: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    for provider, path in [
        ("binance", "/api/v3/ticker/24hr"),
        ("kraken", "/0/public/Ticker"),
        ("coingecko", "/api/v3/simple/price"),
    ]:
        served.inject(provider, path, Fault(garbage=True))
    with pytest.raises(PoolExhaustedError) as exhausted:
        async with asyncio.timeout(10):
            await prices(served, http, majors).one(majors)
    assert {f.kind for f in exhausted.value.failures} == {"parse"}
