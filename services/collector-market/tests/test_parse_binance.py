"""Binance parsers on every recorded Binance body, the documented all-symbols array, bad bodies."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cryptohub.collector_market.assets import Asset, AssetBook
from cryptohub.collector_market.providers import binance
from cryptohub.common.providers import InvalidDataError, ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]

# No recording of GET /api/v3/ticker/24hr without a symbol exists. This is the documented
# response example of that call ("OR" array form), from binance/binance-spot-api-docs
# rest-api.md, "24hr ticker price change statistics", with its // comments removed.
DOCUMENTED_ALL_SYMBOLS = b"""[
  {
    "symbol": "BNBBTC",
    "priceChange": "-94.99999800",
    "priceChangePercent": "-95.960",
    "weightedAvgPrice": "0.29628482",
    "prevClosePrice": "0.10002000",
    "lastPrice": "4.00000200",
    "lastQty": "200.00000000",
    "bidPrice": "4.00000000",
    "bidQty": "100.00000000",
    "askPrice": "4.00000200",
    "askQty": "100.00000000",
    "openPrice": "99.00000000",
    "highPrice": "100.00000000",
    "lowPrice": "0.10000000",
    "volume": "8913.30000000",
    "quoteVolume": "15.30000000",
    "openTime": 1499783499040,
    "closeTime": 1499869899040,
    "firstId": 28385,
    "lastId": 28460,
    "count": 76
  }
]"""


def test_recorded_24h_ticker_gives_a_usdt_tick_observed_when_received(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    context = ctx("binance")
    [tick] = binance.parse_tickers(
        body("binance/ticker_24hr_btcusdt_testnet.json"), context, book=majors
    )
    assert (tick.source, tick.symbol, tick.quote) == ("binance", "btc", "usdt")
    assert tick.price == 65861.66
    assert tick.volume_24h == 63525213.2825034
    assert tick.change_24h_pct == 2.496
    # closeTime only echoes the request time; the fact is when we got it.
    assert tick.observed_at == context.received_at


def test_documented_all_symbols_array_is_read_for_the_quotes_asked(
    ctx: Ctx, majors: AssetBook
) -> None:
    [tick] = binance.parse_tickers(
        DOCUMENTED_ALL_SYMBOLS, ctx("binance"), book=majors, quotes=("BTC",)
    )
    assert (tick.symbol, tick.quote, tick.price) == ("bnb", "btc", 4.000002)
    assert (tick.volume_24h, tick.change_24h_pct) == (15.3, -95.96)


def test_all_symbols_without_a_watched_usdt_pair_is_not_a_success(
    ctx: Ctx, majors: AssetBook
) -> None:
    with pytest.raises(InvalidDataError, match="no watched pair"):
        binance.parse_tickers(DOCUMENTED_ALL_SYMBOLS, ctx("binance"), book=majors)


def test_price_ticker_body_is_not_a_24h_ticker(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    # ticker/price has no volume or change; the collector reads ticker/24hr instead.
    with pytest.raises(InvalidDataError):
        binance.parse_tickers(
            body("binance/ticker_price_btcusdt.json"), ctx("binance"), book=majors
        )


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        (b'"lastPrice": "65861.66000000"', b'"lastPrice": "n/a"'),
        (b'"lastPrice": "65861.66000000"', b'"lastPrice": "0.00000000"'),
        (b'"lastPrice": "65861.66000000"', b'"lastPrice": "-1.00000000"'),
        (b'"lastPrice": "65861.66000000"', b'"lastPrice": 65861.66'),
        (b'"quoteVolume": "63525213.28250340",', b""),
    ],
)
def test_bad_ticker_values_of_a_watched_pair_are_invalid_data(
    good: bytes, bad: bytes, body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    original = body("binance/ticker_24hr_btcusdt_testnet.json")
    assert good in original
    with pytest.raises(InvalidDataError):
        binance.parse_tickers(original.replace(good, bad), ctx("binance"), book=majors)


def test_error_envelope_and_empty_array_are_refused(ctx: Ctx, majors: AssetBook) -> None:
    with pytest.raises(InvalidDataError, match="Invalid symbol"):
        # The error payload Binance documents for any endpoint (rest-api.md, "Error Codes").
        binance.parse_tickers(
            b'{"code": -1121, "msg": "Invalid symbol."}', ctx("binance"), book=majors
        )
    with pytest.raises(InvalidDataError):
        binance.parse_tickers(b"[]", ctx("binance"), book=majors)


def test_usdt_itself_is_not_priced_in_usdt() -> None:
    book = AssetBook([Asset("tether", "usdt", "Tether"), Asset("bitcoin", "btc", "Bitcoin")])
    assert book.code_of("binance", book.assets[0]) is None
    assert book.code_of("binance", book.assets[1]) == "BTC"


def test_recorded_klines_are_final_once_closed_and_observed_at_their_close(
    body: Body, ctx: Ctx
) -> None:
    candles = binance.parse_klines(
        body("binance/klines_1m_btcusdt.json"), ctx("binance"), symbol="btc", interval="1m"
    )
    assert len(candles) == 10
    first = candles[0]
    assert first.open_time == datetime.fromtimestamp(1634943780, UTC)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        60685.22,
        60729.84,
        60670.9,
        60719.27,
        21.63272,
    )
    assert (first.quote, first.interval, first.is_final) == ("usdt", "1m", True)
    assert first.observed_at == first.open_time + timedelta(minutes=1)
    assert all(c.is_final for c in candles)


def test_the_running_kline_is_open_and_observed_when_received(body: Body, ctx: Ctx) -> None:
    inside_last = datetime.fromtimestamp(1634944350, UTC)  # the last bar runs 1634944320..379
    candles = binance.parse_klines(
        body("binance/klines_1m_btcusdt.json"),
        ctx("binance", at=inside_last),
        symbol="btc",
        interval="1m",
    )
    assert [c.is_final for c in candles] == [True] * 9 + [False]
    assert candles[-1].observed_at == inside_last


def test_klines_of_another_interval_are_invalid(body: Body, ctx: Ctx) -> None:
    with pytest.raises(InvalidDataError, match="not 5m long"):
        binance.parse_klines(
            body("binance/klines_1m_btcusdt.json"), ctx("binance"), symbol="btc", interval="5m"
        )


def test_kline_with_high_below_low_is_never_a_candle(body: Body, ctx: Ctx) -> None:
    original = body("binance/klines_1m_btcusdt.json")
    broken = original.replace(b'"60729.84000000"', b'"1.00000000"', 1)
    with pytest.raises(ValueError, match="high must be"):
        binance.parse_klines(broken, ctx("binance"), symbol="btc", interval="1m")
