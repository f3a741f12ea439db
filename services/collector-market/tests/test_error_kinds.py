"""Error bodies over real HTTP become the right error kind: recorded 4xx/5xx JSON bodies, HTTP-200
error envelopes, broken and truncated bodies (the parsers and the shared client together)."""

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import httpx
import pytest

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers import binance, coingecko, coinmarketcap, kraken
from cryptohub.common.events import ErrorKind, ProviderAttempt
from cryptohub.common.providers import (
    ParseContext,
    ProviderClient,
    ProviderError,
    ProviderSpec,
    Request,
    RetryPolicy,
    resolve,
)
from cryptohub.common.replay import Fault, ReplayServer

Parse = Callable[[bytes, ParseContext], object]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def kind_of(
    replay: ReplayServer,
    http: httpx.AsyncClient,
    spec: ProviderSpec,
    request: Request,
    parse: Parse,
    attempts: list[ProviderAttempt],
    env: dict[str, str] | None = None,
) -> tuple[ErrorKind, int | None]:
    spec = replace(spec, retry=RetryPolicy(max_attempts=1))
    environ = {spec.base_url_env_var: replay.base_url(spec.name), **(env or {})}
    client = ProviderClient(resolve(spec, environ), http, attempts=attempts.append, source="test")
    with pytest.raises(ProviderError) as failed:
        await client.fetch(request, parse)
    return failed.value.kind, failed.value.status


async def test_recorded_error_bodies_become_their_kinds(
    replay_server: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    attempts: list[ProviderAttempt] = []

    def markets(raw: bytes, ctx: ParseContext) -> object:
        return coingecko.parse_markets_ticks(raw, ctx, book=majors)

    # Recorded: coins/markets without vs_currency -> HTTP 422 {"error": ...}
    missing = Request(endpoint="coins_markets", path="/api/v3/coins/markets")
    assert await kind_of(
        replay_server, http, coingecko.spec("public"), missing, markets, attempts
    ) == ("http_4xx", 422)
    # Recorded: coins/bitcoin/ohlc without days -> HTTP 500
    ohlc = Request(endpoint="ohlc", path="/api/v3/coins/bitcoin/ohlc")
    assert await kind_of(
        replay_server, http, coingecko.spec("public"), ohlc, markets, attempts
    ) == ("http_5xx", 500)
    # Recorded: CoinMarketCap with an invalid key -> HTTP 401 and a status block
    cmc = Request(endpoint="map", path="/v1/cryptocurrency/map")
    assert await kind_of(
        replay_server,
        http,
        coinmarketcap.SPEC,
        cmc,
        coinmarketcap.parse_listings,
        attempts,
        env={"COINMARKETCAP_API_KEY": "not-a-real-key-1"},
    ) == ("http_4xx", 401)
    # Recorded: Kraken's unknown pair -> HTTP 200 with {"error": [...]}
    unknown = kraken.ohlc_request("NOPE", "1m")

    def ohlc_parse(raw: bytes, ctx: ParseContext) -> object:
        return kraken.parse_ohlc(raw, ctx, symbol="btc", code="NOPE", interval="1m")

    assert await kind_of(replay_server, http, kraken.SPEC, unknown, ohlc_parse, attempts) == (
        "invalid_data",
        200,
    )
    kinds = [(a.provider, a.ok, a.error_kind, a.status) for a in attempts]
    assert kinds == [
        ("coingecko", False, "http_4xx", 422),
        ("coingecko", False, "http_5xx", 500),
        ("coinmarketcap", False, "http_4xx", 401),
        ("kraken", False, "invalid_data", 200),
    ]
    assert all("not-a-real-key-1" not in (a.error or "") for a in attempts)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(garbage=True), "parse"),
        (Fault(truncate=True), "parse"),
        (Fault(body=b"[]"), "invalid_data"),
        (Fault(body=b'[{"id": "bitcoin"}]'), "invalid_data"),
    ],
)
async def test_broken_bodies_are_never_published(
    fault: Fault,
    kind: ErrorKind,
    replay_server: ReplayServer,
    http: httpx.AsyncClient,
    majors: AssetBook,
) -> None:
    request = coingecko.markets_request(top_n=250)
    replay_server.inject("coingecko", "/api/v3/coins/markets", fault)

    def markets(raw: bytes, ctx: ParseContext) -> object:
        return coingecko.parse_markets_ticks(raw, ctx, book=majors)

    found, _ = await kind_of(replay_server, http, coingecko.spec("public"), request, markets, [])
    assert found == kind


async def test_kraken_rate_limit_body_with_http_200_is_rate_limited_not_invalid_data(
    replay_server: ReplayServer, http: httpx.AsyncClient
) -> None:
    # Not recorded: Kraken's documented rate-limit error string
    # (https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits) in the envelope of the
    # recorded unknown-pair error, served with HTTP 200 where the OHLC route answers.
    replay_server.inject(
        "kraken", "/0/public/OHLC", Fault(body=b'{"error":["EAPI:Rate limit exceeded"]}')
    )
    attempts: list[ProviderAttempt] = []

    def ohlc_parse(raw: bytes, ctx: ParseContext) -> object:
        return kraken.parse_ohlc(raw, ctx, symbol="btc", code="XBT", interval="1m")

    request = kraken.ohlc_request("XBT", "1m")
    assert await kind_of(replay_server, http, kraken.SPEC, request, ohlc_parse, attempts) == (
        "rate_limited",
        200,
    )
    assert [(a.provider, a.ok, a.error_kind, a.status) for a in attempts] == [
        ("kraken", False, "rate_limited", 200)
    ]


async def test_binance_418_ip_ban_is_rate_limited_and_honours_retry_after(
    replay_server: ReplayServer, http: httpx.AsyncClient, majors: AssetBook
) -> None:
    # Not recorded: Binance documents HTTP 418 with Retry-After for an IP banned after ignoring
    # 429s (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
    replay_server.inject("binance", "/api/v3/ticker/24hr", Fault(status=418, retry_after="120"))
    attempts: list[ProviderAttempt] = []

    def tickers(raw: bytes, ctx: ParseContext) -> object:
        return binance.parse_tickers(raw, ctx, book=majors)

    found = await kind_of(replay_server, http, binance.SPEC, binance.TICKERS, tickers, attempts)
    assert found == ("rate_limited", 418)
    [attempt] = attempts
    assert (attempt.error_kind, attempt.status) == ("rate_limited", 418)
    assert attempt.rate_limit is not None
    assert attempt.rate_limit.retry_after_seconds == 120.0
