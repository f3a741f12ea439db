"""Kraken parsers on every recorded Kraken body (the HTTP-200 error envelope included)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers import kraken
from cryptohub.common.providers import InvalidDataError, ParseContext, RateLimitedError

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]


@pytest.mark.parametrize(
    ("pair", "split"),
    [
        ("XXBTZUSD", ("XBT", "usd")),
        ("XETHZUSD", ("ETH", "usd")),
        ("XBTUSDT", ("XBT", "usdt")),
        ("SOLUSD", ("SOL", "usd")),
        ("XDGUSD", ("XDG", "usd")),
        ("USDTZUSD", ("USDT", "usd")),
        ("XTZUSD", ("XTZ", "usd")),
        ("XXBTZEUR", None),
        ("ETHXBT", None),
    ],
)
def test_kraken_pair_names_split_into_base_code_and_quote(
    pair: str, split: tuple[str, str] | None
) -> None:
    assert kraken.split_pair(pair) == split


def test_recorded_ticker_gives_last_trade_and_24h_quote_volume(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    context = ctx("kraken")
    [tick] = kraken.parse_ticker(body("kraken/ticker_xbtusdt.json"), context, book=majors)
    assert (tick.source, tick.symbol, tick.quote, tick.price) == ("kraken", "btc", "usdt", 105899.4)
    # 24h base volume x 24h VWAP = 24h quote volume.
    assert tick.volume_24h == pytest.approx(163.28908096 * 105904.39279)
    assert tick.observed_at == context.received_at  # Kraken gives no time


def test_recorded_1m_ohlc_is_final_up_to_last_and_open_after(body: Body, ctx: Ctx) -> None:
    candles = kraken.parse_ohlc(
        body("kraken/ohlc_xbtusdt_1m.json"), ctx("kraken"), symbol="btc", code="XBT", interval="1m"
    )
    assert len(candles) == 721
    assert sum(c.is_final for c in candles) == 720
    running = candles[-1]
    assert (running.is_final, running.open_time) == (False, datetime.fromtimestamp(1762820220, UTC))
    first = candles[0]
    assert (first.open, first.close, first.volume, first.quote) == (106038.2, 106038.2, 0.0, "usdt")
    assert first.observed_at == datetime.fromtimestamp(1762777020 + 60, UTC)


def test_recorded_1h_ohlc_of_a_legacy_pair_name(body: Body, ctx: Ctx) -> None:
    context = ctx("kraken")
    candles = kraken.parse_ohlc(
        body("kraken/ohlc_xxbtzusd_1h_since24h.json"),
        context,
        symbol="btc",
        code="XBT",
        interval="1h",
    )
    assert len(candles) == 24
    last_final = candles[-2]
    assert last_final.is_final
    assert last_final.open_time == datetime.fromtimestamp(1701810000, UTC)
    assert (last_final.open, last_final.high, last_final.low, last_final.close) == (
        43785.1,
        44216.0,
        43724.0,
        43912.9,
    )
    assert last_final.volume == 343.40651248
    assert last_final.quote == "usd"
    assert last_final.observed_at == last_final.open_time + timedelta(hours=1)
    assert candles[-1].observed_at == context.received_at


def test_unknown_pair_envelope_with_http_200_is_invalid_data(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    envelope = body("kraken/error_unknown_asset_pair.json")
    with pytest.raises(InvalidDataError, match="EQuery:Unknown asset pair"):
        kraken.parse_ticker(envelope, ctx("kraken"), book=majors)
    with pytest.raises(InvalidDataError, match="EQuery:Unknown asset pair"):
        kraken.parse_ohlc(envelope, ctx("kraken"), symbol="btc", code="XBT", interval="1m")


# No rate-limit body is recorded (fixtures/providers/SOURCES.md). These are Kraken's documented
# rate-limit error strings (https://docs.kraken.com/api/docs/guides/spot-errors and
# https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits) in the recorded envelope's shape
# (kraken/error_unknown_asset_pair.json: HTTP 200, an `error` list, no `result`).
@pytest.mark.parametrize("error", ["EAPI:Rate limit exceeded", "EGeneral:Too many requests"])
def test_rate_limit_envelope_with_http_200_is_rate_limited_without_a_wait(
    error: str, ctx: Ctx, majors: AssetBook
) -> None:
    envelope = b'{"error":["' + error.encode() + b'"]}'
    with pytest.raises(RateLimitedError, match=error) as ticker:
        kraken.parse_ticker(envelope, ctx("kraken"), book=majors)
    assert ticker.value.retry_after_s is None
    with pytest.raises(RateLimitedError, match=error):
        kraken.parse_ohlc(envelope, ctx("kraken"), symbol="btc", code="XBT", interval="1m")


@pytest.mark.parametrize("spelling", ["EService:Throttled: {ts}", "EService: Throttled: {ts}"])
def test_throttled_envelope_waits_until_its_timestamp(
    spelling: str, ctx: Ctx, majors: AssetBook
) -> None:
    context = ctx("kraken")
    until = int(context.received_at.timestamp()) + 30  # "try again after [timestamp]"
    envelope = b'{"error":["' + spelling.format(ts=until).encode() + b'"]}'
    with pytest.raises(RateLimitedError, match="Throttled") as throttled:
        kraken.parse_ohlc(envelope, context, symbol="btc", code="XBT", interval="1m")
    assert throttled.value.retry_after_s == 30.0
    with pytest.raises(RateLimitedError) as bare:
        kraken.parse_ticker(b'{"error":["EService:Throttled"]}', context, book=majors)
    assert bare.value.retry_after_s is None


@pytest.mark.parametrize(
    "error", ["EQuery:Unknown asset pair", "EService:Unavailable", "EGeneral:Invalid arguments"]
)
def test_other_errors_stay_invalid_data_and_are_not_rate_limits(
    error: str, ctx: Ctx, majors: AssetBook
) -> None:
    envelope = b'{"error":["' + error.encode() + b'"]}'
    with pytest.raises(InvalidDataError, match=error):
        kraken.parse_ticker(envelope, ctx("kraken"), book=majors)


def test_ohlc_of_another_asset_or_interval_is_invalid(body: Body, ctx: Ctx) -> None:
    recorded = body("kraken/ohlc_xbtusdt_1m.json")
    with pytest.raises(InvalidDataError, match="asked for ETH"):
        kraken.parse_ohlc(recorded, ctx("kraken"), symbol="eth", code="ETH", interval="1m")
    with pytest.raises(InvalidDataError, match="not on the 5m grid"):
        kraken.parse_ohlc(recorded, ctx("kraken"), symbol="btc", code="XBT", interval="5m")


def test_ticker_with_a_string_that_is_no_number_is_invalid(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    recorded = body("kraken/ticker_xbtusdt.json")
    broken = recorded.replace(b'"105899.40000"', b'"abc"')
    with pytest.raises(InvalidDataError, match="must be a number"):
        kraken.parse_ticker(broken, ctx("kraken"), book=majors)
    zero = recorded.replace(b'"105899.40000"', b'"0.00000"')
    with pytest.raises(InvalidDataError, match="price > 0"):
        kraken.parse_ticker(zero, ctx("kraken"), book=majors)


def test_answer_with_neither_error_nor_result_is_invalid(ctx: Ctx, majors: AssetBook) -> None:
    with pytest.raises(InvalidDataError, match="neither error nor result"):
        kraken.parse_ticker(b'{"error": []}', ctx("kraken"), book=majors)
