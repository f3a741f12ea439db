"""CryptoCompare parsers on every recorded CryptoCompare body, the error envelope, bad bodies."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cryptohub.collector_market.assets import Asset, AssetBook
from cryptohub.collector_market.providers import cryptocompare
from cryptohub.common.providers import (
    InvalidDataError,
    ParseContext,
    ParseError,
    RateLimitedError,
)

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]

BOOK = AssetBook(
    [
        Asset("bitcoin", "btc", "Bitcoin"),
        Asset("dai", "dai", "Dai"),
        Asset("binancecoin", "bnb", "BNB"),
    ]
)


def test_recorded_pricemulti_gives_a_tick_per_asset_in_the_quote_asked(
    body: Body, ctx: Ctx
) -> None:
    context = ctx("cryptocompare")
    ticks = cryptocompare.parse_pricemulti(
        body("cryptocompare/data_pricemulti_btc_dai_bnb_eth.json"),
        context,
        book=BOOK,
        quotes=("ETH",),  # the recording asked tsyms=ETH
    )
    assert {(t.symbol, t.quote, t.price) for t in ticks} == {
        ("btc", "eth", 40.48),
        ("dai", "eth", 0.0004486),
        ("bnb", "eth", 0.2673),
    }
    assert all(t.observed_at == context.received_at for t in ticks)  # no time is given


def test_pricemulti_without_the_usd_quote_is_not_a_usd_price(body: Body, ctx: Ctx) -> None:
    with pytest.raises(InvalidDataError, match="no watched asset"):
        cryptocompare.parse_pricemulti(
            body("cryptocompare/data_pricemulti_btc_dai_bnb_eth.json"),
            ctx("cryptocompare"),
            book=BOOK,
        )


def test_single_asset_price_body_is_not_a_pricemulti_body(body: Body, ctx: Ctx) -> None:
    # /data/price answers {"EUR": 1198.44}: a number where pricemulti has an object.
    with pytest.raises(InvalidDataError):
        cryptocompare.parse_pricemulti(
            body("cryptocompare/data_price_weth_eur.json"), ctx("cryptocompare"), book=BOOK
        )


def test_error_envelope_with_http_200_says_the_message(ctx: Ctx) -> None:
    # The envelope shape CryptoCompare's min-api documents for errors (Response/Message).
    envelope = b'{"Response": "Error", "Message": "fsyms is a required param.", "Type": 2}'
    with pytest.raises(InvalidDataError, match="fsyms is a required param"):
        cryptocompare.parse_pricemulti(envelope, ctx("cryptocompare"), book=BOOK)


# No rate-limit body is recorded (fixtures/providers/SOURCES.md): this is the rate-limit answer
# CryptoCompare documents for min-api, verbatim from its own guide
# (https://github.com/CryptoCompareLTD/api-guides, README "Rate limit"), sent with HTTP 200.
DOCUMENTED_RATE_LIMIT = b"""{
	"Response": "Error",
	"Message": "You are over your rate limit please upgrade your account!",
	"HasWarning": false,
	"Type": 99,
	"RateLimit": {
		"calls_made": {
			"second": 53,
			"minute": 915,
			"hour": 63283,
			"day": 127321,
			"month": 6720577,
			"total_calls": 29374377
		},
		"max_calls": {
			"second": 50,
			"minute": 2000,
			"hour": 100000,
			"day": 1500000,
			"month": 15000000
		}
	},
	"Data": {}
}"""


def test_documented_rate_limit_envelope_is_rate_limited_not_invalid_data(ctx: Ctx) -> None:
    with pytest.raises(RateLimitedError, match="over your rate limit") as limited:
        cryptocompare.parse_pricemulti(DOCUMENTED_RATE_LIMIT, ctx("cryptocompare"), book=BOOK)
    assert not isinstance(limited.value, InvalidDataError)
    assert limited.value.retry_after_s is None  # the envelope says nothing of when to retry


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (b'{"BTC":{"USD":0}}', InvalidDataError),
        (b'{"BTC":{"USD":-3}}', InvalidDataError),
        (b'{"BTC":{"USD":"40000"}}', InvalidDataError),
        (b"{}", InvalidDataError),
        (b'{"BTC":', ParseError),
    ],
)
def test_bad_pricemulti_bodies(bad: bytes, error: type[Exception], ctx: Ctx) -> None:
    with pytest.raises(error):
        cryptocompare.parse_pricemulti(bad, ctx("cryptocompare"), book=BOOK)


def test_pricemulti_request_keeps_fsyms_within_300_characters() -> None:
    codes = [f"C{i:04d}" for i in range(100)]
    request = cryptocompare.pricemulti_request(codes)
    fsyms = str(request.params["fsyms"])
    assert len(fsyms) <= 300
    assert fsyms.split(",") == codes[: len(fsyms.split(","))]


def test_recorded_index_history_gives_hourly_candles(body: Body, ctx: Ctx) -> None:
    candles = cryptocompare.parse_history(
        body("cryptocompare/index_cc_v1_historical_hours_DPI-WETH_limit10.json"),
        ctx("cryptocompare_data"),
        symbol="dpi",
        code="DPI",
        interval="1h",
    )
    assert len(candles) == 10
    first = candles[0]
    assert first.open_time == datetime.fromtimestamp(1732694400, UTC)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        0.0344886452158857,
        0.035052676328802,
        0.0335084665631301,
        0.0336335772625742,
        37.5542631297363,
    )
    assert (first.source, first.quote, first.is_final) == ("cryptocompare_data", "weth", True)
    assert first.observed_at == first.open_time + timedelta(hours=1)
    assert candles[-1].open_time == datetime.fromtimestamp(1732726800, UTC)


def test_history_of_another_unit_or_instrument_is_invalid(body: Body, ctx: Ctx) -> None:
    recorded = body("cryptocompare/index_cc_v1_historical_hours_DPI-WETH_limit10.json")
    with pytest.raises(InvalidDataError, match="not 1m"):
        cryptocompare.parse_history(
            recorded, ctx("cryptocompare_data"), symbol="dpi", code="DPI", interval="1m"
        )
    with pytest.raises(InvalidDataError, match="asked for BTC"):
        cryptocompare.parse_history(
            recorded, ctx("cryptocompare_data"), symbol="btc", code="BTC", interval="1h"
        )


def test_history_error_object_is_invalid(ctx: Ctx) -> None:
    with pytest.raises(InvalidDataError, match="error"):
        cryptocompare.parse_history(
            b'{"Data": [], "Err": {"type": 1, "message": "Not found"}}',
            ctx("cryptocompare_data"),
            symbol="btc",
            code="BTC",
            interval="1h",
        )
