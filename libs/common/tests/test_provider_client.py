"""The resilient client against the fault-injecting replay server, on real loopback HTTP."""

import asyncio
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable

import httpx
import msgspec
import pytest

from cryptohub.common.events import ProviderAttempt
from cryptohub.common.providers import (
    ApiKey,
    BreakerPolicy,
    InvalidDataError,
    KeyPlacement,
    ParseContext,
    PoolMember,
    ProviderClient,
    ProviderError,
    ProviderPool,
    ProviderSpec,
    RateLimitedError,
    Request,
    RetryPolicy,
    Timeouts,
    resolve,
)
from cryptohub.common.providers.breaker import BreakerState
from cryptohub.common.replay import Fault, ReplayServer


class _Quote(msgspec.Struct):
    price: float


def parse_price(body: bytes, context: ParseContext) -> float:
    price = msgspec.json.decode(body, type=_Quote).price
    if not price > 0:
        raise InvalidDataError(f"price must be > 0, got {price}")
    return price


PRICE = Request(endpoint="price", path="/price")
FAST = RetryPolicy(max_attempts=1)

# A "rate limited" answer sent with HTTP 200. Not recorded: the example CryptoCompare documents
# for min-api (https://github.com/CryptoCompareLTD/api-guides, README "Rate limit"), whitespace
# removed.
RATE_LIMIT_BODY = (
    b'{"Response":"Error","Message":"You are over your rate limit please upgrade your account!",'
    b'"HasWarning":false,"Type":99,"RateLimit":{"calls_made":{"second":53,"minute":915,'
    b'"hour":63283,"day":127321,"month":6720577,"total_calls":29374377},"max_calls":'
    b'{"second":50,"minute":2000,"hour":100000,"day":1500000,"month":15000000}},"Data":{}}'
)


class _Refusal(msgspec.Struct):
    Response: str | None = None
    Message: str | None = None
    Type: int | None = None


def refusing_parse(retry_after_s: float | None = None) -> Callable[[bytes, ParseContext], float]:
    """parse_price, but the rate-limit body raises RateLimitedError (as a provider parser does)."""

    def parse(body: bytes, context: ParseContext) -> float:
        refusal = msgspec.json.decode(body, type=_Refusal)
        if refusal.Response == "Error" and refusal.Type == 99:
            raise RateLimitedError(refusal.Message or "", retry_after_s=retry_after_s)
        return parse_price(body, context)

    return parse


@pytest.fixture
async def replay() -> AsyncIterator[ReplayServer]:
    async with ReplayServer() as server:
        for name, price in [("alpha", b"100.5"), ("beta", b"101.5"), ("gamma", b"99.5")]:
            server.add_route(name, "GET", "/price", b'{"price": ' + price + b"}")
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def make_client(
    replay: ReplayServer,
    http: httpx.AsyncClient,
    name: str,
    attempts: list[ProviderAttempt] | None = None,
    **spec_fields: object,
) -> ProviderClient:
    spec = ProviderSpec(name=name, category="market", base_url="http://127.0.0.1:9", **spec_fields)  # type: ignore[arg-type]
    env = {spec.base_url_env_var: replay.base_url(name)}
    sink = attempts.append if attempts is not None else None
    return ProviderClient(resolve(spec, env), http, attempts=sink, source="test")


def price_member(client: ProviderClient, priority: int = 0) -> PoolMember[None, float]:
    return PoolMember(client=client, request=lambda _: PRICE, parse=parse_price, priority=priority)


async def test_base_url_comes_from_the_provider_env_override(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    client = make_client(replay, http, "alpha")
    assert await client.fetch(PRICE, parse_price) == 100.5
    assert replay.request_count("alpha") == 1


async def test_every_call_produces_an_attempt_with_status_latency_and_rate_limit_headers(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.add_route(
        "alpha",
        "GET",
        "/limited",
        b'{"price": 1.0}',
        headers={"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "7"},
    )
    attempts: list[ProviderAttempt] = []
    client = make_client(replay, http, "alpha", attempts)
    await client.fetch(Request(endpoint="limited", path="/limited"), parse_price)
    [attempt] = attempts
    assert (attempt.provider, attempt.endpoint, attempt.ok, attempt.status) == (
        "alpha",
        "limited",
        True,
        200,
    )
    assert attempt.error_kind is None
    assert 0 < attempt.latency_ms < 5000
    assert attempt.rate_limit is not None
    assert (attempt.rate_limit.limit, attempt.rate_limit.remaining) == (50, 7)


async def test_429_with_retry_after_pauses_provider_and_pool_answers_from_next_member(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(status=429, retry_after="2"))
    alpha, beta = make_client(replay, http, "alpha"), make_client(replay, http, "beta")
    pool = ProviderPool("prices", [price_member(alpha, 0), price_member(beta, 1)])

    first = await pool.call(None)
    assert (first.value, first.provider) == (101.5, "beta")
    assert [(f.provider, f.kind, f.status) for f in first.failures] == [
        ("alpha", "rate_limited", 429)
    ]

    replay.clear_faults()
    deadline = time.monotonic() + 5
    while replay.request_count("alpha") == 1 and time.monotonic() < deadline:
        result = await pool.call(None)
        if result.provider == "beta":
            assert result.failures[0].called is False
        await asyncio.sleep(0.05)
    alpha_calls = [r.at for r in replay.requests if r.provider == "alpha"]
    assert len(alpha_calls) == 2, "alpha must be called again once the pause is over"
    assert alpha_calls[1] - alpha_calls[0] >= 2.0


async def test_rate_limit_body_with_http_200_is_rate_limited_and_pauses_like_a_429(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(body=RATE_LIMIT_BODY))
    attempts: list[ProviderAttempt] = []
    # No wait in the body: paused for the declared backoff ceiling, as a 429 without Retry-After.
    retry = RetryPolicy(max_attempts=1, max_delay=30.0)
    client = make_client(replay, http, "alpha", attempts, retry=retry)
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, refusing_parse())
    assert (failed.value.kind, failed.value.status) == ("rate_limited", 200)
    assert "over your rate limit" in failed.value.message
    assert [(a.ok, a.error_kind, a.status) for a in attempts] == [(False, "rate_limited", 200)]
    assert client.limiter.paused_for() > 20.0
    assert client.breaker.state is BreakerState.CLOSED

    replay.clear_faults()
    with pytest.raises(ProviderError) as refused:
        await client.fetch(PRICE, refusing_parse())
    assert (refused.value.kind, refused.value.called) == ("rate_limited", False)
    assert replay.request_count("alpha") == 1, "nothing may be sent while paused"
    assert len(attempts) == 1


@pytest.mark.parametrize(("said", "paused"), [(45.0, 45.0), (1e9, 600.0), (-5.0, 0.0)])
async def test_wait_a_rate_limit_body_gives_is_honoured_capped_and_recorded(
    replay: ReplayServer, http: httpx.AsyncClient, said: float, paused: float
) -> None:
    replay.inject("alpha", "/price", Fault(body=RATE_LIMIT_BODY))
    attempts: list[ProviderAttempt] = []
    retry = RetryPolicy(max_attempts=1, max_retry_after=600.0)
    client = make_client(replay, http, "alpha", attempts, retry=retry)
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, refusing_parse(retry_after_s=said))
    assert failed.value.kind == "rate_limited"
    [attempt] = attempts
    assert attempt.rate_limit is not None
    assert attempt.rate_limit.retry_after_seconds == paused
    assert paused - 5.0 <= client.limiter.paused_for() <= paused


async def test_rate_limit_body_is_retried_after_the_backoff_within_the_call(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(body=RATE_LIMIT_BODY, times=1))
    attempts: list[ProviderAttempt] = []
    retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
    client = make_client(replay, http, "alpha", attempts, retry=retry)
    assert await client.fetch(PRICE, refusing_parse()) == 100.5
    assert [(a.attempt, a.error_kind, a.status) for a in attempts] == [
        (1, "rate_limited", 200),
        (2, None, 200),
    ]
    assert replay.request_count("alpha") == 2


async def test_breaker_opens_sends_nothing_while_open_and_closes_after_a_good_probe(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(status=500))
    policy = BreakerPolicy(failure_threshold=3, cooldown=0.5, probe_timeout=2.0)
    client = make_client(replay, http, "alpha", breaker=policy, retry=FAST)
    for _ in range(3):
        with pytest.raises(ProviderError) as failed:
            await client.fetch(PRICE, parse_price)
        assert failed.value.kind == "http_5xx"
    assert client.breaker.state is BreakerState.OPEN

    for _ in range(5):
        with pytest.raises(ProviderError) as refused:
            await client.fetch(PRICE, parse_price)
        assert (refused.value.kind, refused.value.called) == ("circuit_open", False)
    assert replay.request_count("alpha") == 3, "no call may reach the provider while open"

    replay.clear_faults()
    await asyncio.sleep(0.55)
    assert await client.fetch(PRICE, parse_price) == 100.5
    assert client.breaker.state is BreakerState.CLOSED
    assert replay.request_count("alpha") == 4


async def test_failed_probe_reopens_the_breaker(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(status=503))
    policy = BreakerPolicy(failure_threshold=1, cooldown=0.3, probe_timeout=2.0)
    client = make_client(replay, http, "alpha", breaker=policy, retry=FAST)
    with pytest.raises(ProviderError):
        await client.fetch(PRICE, parse_price)
    await asyncio.sleep(0.35)
    with pytest.raises(ProviderError) as probe:
        await client.fetch(PRICE, parse_price)
    assert probe.value.kind == "http_5xx"
    assert client.breaker.state is BreakerState.OPEN
    assert replay.request_count("alpha") == 2


async def test_hung_provider_ends_at_its_timeout(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(hang=True))
    client = make_client(
        replay, http, "alpha", timeouts=Timeouts(connect=1.0, read=0.4, total=0.6), retry=FAST
    )
    started = time.monotonic()
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, parse_price)
    elapsed = time.monotonic() - started
    assert failed.value.kind == "timeout"
    assert 0.35 <= elapsed < 3.0


async def test_slow_drip_is_bounded_by_the_total_timeout(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(delay_s=5.0))
    client = make_client(
        replay, http, "alpha", timeouts=Timeouts(connect=1, read=10, total=0.5), retry=FAST
    )
    started = time.monotonic()
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, parse_price)
    assert failed.value.kind == "timeout"
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    ("fault", "kind"), [(Fault(garbage=True), "parse"), (Fault(truncate=True), "parse")]
)
async def test_garbage_or_truncated_body_is_a_parse_attempt_and_never_escapes_the_pool(
    replay: ReplayServer, http: httpx.AsyncClient, fault: Fault, kind: str
) -> None:
    replay.inject("alpha", "/price", fault)
    attempts: list[ProviderAttempt] = []
    alpha = make_client(replay, http, "alpha", attempts, retry=FAST)
    beta = make_client(replay, http, "beta", attempts, retry=FAST)
    result = await ProviderPool("prices", [price_member(alpha, 0), price_member(beta, 1)]).call(
        None
    )
    assert (result.value, result.provider) == (101.5, "beta")
    assert [(a.provider, a.ok, a.error_kind) for a in attempts] == [
        ("alpha", False, kind),
        ("beta", True, None),
    ]


async def test_invalid_values_are_an_invalid_data_attempt(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.add_route("alpha", "GET", "/zero", b'{"price": 0}')
    replay.add_route("alpha", "GET", "/text", b'{"price": "abc"}')
    client = make_client(replay, http, "alpha")
    for path in ("/zero", "/text"):
        with pytest.raises(ProviderError) as failed:
            await client.fetch(Request(endpoint="p", path=path), parse_price)
        assert failed.value.kind == "invalid_data"


async def test_oversize_body_is_cut_off_at_the_cap(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(oversize_bytes=50 * 1024 * 1024))
    client = make_client(replay, http, "alpha", max_body_bytes=256 * 1024, retry=FAST)
    started = time.monotonic()
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, parse_price)
    assert failed.value.kind == "too_large"
    assert "256" in failed.value.message or "262144" in failed.value.message
    assert time.monotonic() - started < 5.0, "the client must stop reading at the cap"


async def test_connection_reset_is_retried_then_reported_as_connect(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(reset=True))
    retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    attempts: list[ProviderAttempt] = []
    client = make_client(replay, http, "alpha", attempts, retry=retry)
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, parse_price)
    assert failed.value.kind == "connect"
    assert [(a.attempt, a.error_kind) for a in attempts] == [
        (1, "connect"),
        (2, "connect"),
        (3, "connect"),
    ]


async def test_transient_5xx_is_retried_within_the_call(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    replay.inject("alpha", "/price", Fault(status=502, times=1))
    client = make_client(replay, http, "alpha", retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    assert await client.fetch(PRICE, parse_price) == 100.5
    assert replay.request_count("alpha") == 2


async def test_4xx_is_not_retried(replay: ReplayServer, http: httpx.AsyncClient) -> None:
    replay.inject("alpha", "/price", Fault(status=404))
    client = make_client(replay, http, "alpha", retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, parse_price)
    assert (failed.value.kind, failed.value.status) == ("http_4xx", 404)
    assert replay.request_count("alpha") == 1


async def test_conditional_get_returns_none_when_not_modified(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    attempts: list[ProviderAttempt] = []
    client = make_client(replay, http, "alpha", attempts)
    assert await client.fetch_if_modified(PRICE, parse_price) == 100.5
    assert await client.fetch_if_modified(PRICE, parse_price) is None
    assert [a.status for a in attempts] == [200, 304]
    second = [r for r in replay.requests if r.provider == "alpha"][1]
    assert "if-none-match" in {k.lower() for k in second.headers}


@pytest.mark.parametrize("placement", [KeyPlacement.QUERY, KeyPlacement.HEADER])
async def test_api_key_never_appears_in_logs_attempts_or_errors(
    replay: ReplayServer,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    placement: KeyPlacement,
) -> None:
    marker = f"sk-live-LEAKCHECK-{placement.value}-7f3a9c"
    spec = ProviderSpec(
        name="alpha",
        category="market",
        base_url="http://127.0.0.1:9",
        key=ApiKey(env_var="ALPHA_API_KEY", placement=placement, name="x_cg_pro_api_key"),
        retry=RetryPolicy(max_attempts=2, base_delay=0.01),
    )
    env = {"ALPHA_API_KEY": marker, spec.base_url_env_var: replay.base_url("alpha")}
    attempts: list[ProviderAttempt] = []
    client = ProviderClient(resolve(spec, env), http, attempts=attempts.append)
    replay.inject("alpha", "/price", Fault(status=500))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as failed:
        await client.fetch(PRICE, parse_price)
    replay.clear_faults()
    replay.inject("alpha", "/price", Fault(garbage=True))
    with pytest.raises(ProviderError) as garbage:
        await client.fetch(PRICE, parse_price)
    replay.clear_faults()
    await client.fetch(PRICE, parse_price)
    logging.getLogger("httpx").info("HTTP Request: GET %s", f"http://x/?x_cg_pro_api_key={marker}")

    sent = [r for r in replay.requests if r.provider == "alpha"]
    carried = [r.query if placement is KeyPlacement.QUERY else dict(r.headers) for r in sent]
    assert all(marker in str(c) for c in carried), "the key must reach the provider"
    texts = [
        caplog.text,
        *(msgspec.json.encode(a).decode() for a in attempts),
        str(failed.value),
        repr(failed.value),
        "".join(traceback.format_exception(failed.value)),
        str(garbage.value),
        "".join(traceback.format_exception(garbage.value)),
        repr(client.provider),
    ]
    assert not [t for t in texts if marker in t]


async def test_missing_required_key_disables_the_provider_and_the_pool_skips_it(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    keyed = ProviderSpec(
        name="alpha",
        category="market",
        base_url=replay.base_url("alpha"),
        key=ApiKey(env_var="ALPHA_API_KEY", placement=KeyPlacement.HEADER, name="X-Key"),
    )
    alpha = ProviderClient(resolve(keyed, {}), http)
    assert not alpha.enabled
    pool = ProviderPool(
        "prices", [price_member(alpha, 0), price_member(make_client(replay, http, "beta"), 1)]
    )
    assert [m.name for m in pool.members] == ["beta"]
    assert (await pool.call(None)).provider == "beta"
    assert replay.request_count("alpha") == 0


async def test_pool_raises_exhausted_with_every_failure_when_all_members_fail(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    from cryptohub.common.providers import PoolExhaustedError

    replay.inject("alpha", "/price", Fault(status=500))
    replay.inject("beta", "/price", Fault(garbage=True))
    alpha = make_client(replay, http, "alpha", retry=FAST)
    beta = make_client(replay, http, "beta", retry=FAST)
    with pytest.raises(PoolExhaustedError) as exhausted:
        await ProviderPool("prices", [price_member(alpha), price_member(beta, 1)]).call(None)
    assert [(f.provider, f.kind) for f in exhausted.value.failures] == [
        ("alpha", "http_5xx"),
        ("beta", "parse"),
    ]
    assert "prices" in str(exhausted.value)


async def test_rate_limiter_spaces_calls_to_the_declared_limit(
    replay: ReplayServer, http: httpx.AsyncClient
) -> None:
    from cryptohub.common.providers import RateLimits

    client = make_client(replay, http, "alpha", limits=RateLimits(per_second=10))
    started = time.monotonic()
    await asyncio.gather(*(client.fetch(PRICE, parse_price) for _ in range(15)))
    assert time.monotonic() - started >= 0.45, "15 calls at 10/s (burst 10) need about 0.5 s"
    assert replay.request_count("alpha") == 15
