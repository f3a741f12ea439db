"""CoinMarketCap parsers on every recorded CoinMarketCap body, error envelopes, bad bodies."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers import coinmarketcap
from cryptohub.common.providers import InvalidDataError, ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]


def test_recorded_listings_price_watched_assets_at_cmc_time(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    ticks = coinmarketcap.parse_listings_ticks(
        body("coinmarketcap/listings_latest_limit100.json"), ctx("coinmarketcap"), book=majors
    )
    by_symbol = {t.symbol: t for t in ticks}
    assert set(by_symbol) == {"btc", "eth", "usdt", "bnb", "xrp", "doge"}
    btc = by_symbol["btc"]
    assert (btc.price, btc.volume_24h, btc.market_cap, btc.change_24h_pct) == (
        3641.09616652,
        5975281731.45762,
        63873838473.77294,
        0.160106,
    )
    assert btc.observed_at == datetime(2019, 2, 17, 6, 36, 21, tzinfo=UTC)
    # CMC named it "Binance Coin" then, CoinGecko "BNB" now: matched by the curated CMC id 1839.
    assert by_symbol["bnb"].price == 9.03026603882


def test_recorded_listings_give_the_cmc_ranking(body: Body, ctx: Ctx) -> None:
    listed = coinmarketcap.parse_listings(
        body("coinmarketcap/listings_latest_limit100.json"), ctx("coinmarketcap")
    )
    assert len(listed) == 100
    assert [(c.provider_id, c.symbol, c.rank) for c in listed[:3]] == [
        ("1", "BTC", 1),
        ("1027", "ETH", 2),
        ("52", "XRP", 3),
    ]


def test_recorded_v2_quotes_by_id(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    [tick] = coinmarketcap.parse_quotes(
        body("coinmarketcap/v2_quotes_latest_id1.json"), ctx("coinmarketcap"), book=majors
    )
    assert (tick.symbol, tick.price) == ("btc", 21864.74930690019)
    assert (tick.volume_24h, tick.market_cap, tick.change_24h_pct) == (
        50466092571.5209,
        416935209390.64685,
        2.66543925,
    )
    assert tick.observed_at == datetime(2022, 6, 16, 7, 18, tzinfo=UTC)


def test_recorded_invalid_key_status_is_an_error_even_as_a_body(body: Body, ctx: Ctx) -> None:
    # Served with HTTP 401 (the client reports http_4xx before parsing); the same status block
    # with HTTP 200 would still be an error.
    with pytest.raises(InvalidDataError, match="1001: This API Key is invalid"):
        coinmarketcap.parse_listings(
            body("coinmarketcap/error_401_invalid_api_key.json"), ctx("coinmarketcap")
        )


def test_bad_listing_values_are_invalid(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    recorded = body("coinmarketcap/listings_latest_limit100.json")
    good = b'"price": 3641.09616652'
    assert good in recorded
    for bad in (b'"price": 0', b'"price": -1', b'"price": "3641.09616652"'):
        with pytest.raises(InvalidDataError):
            coinmarketcap.parse_listings_ticks(
                recorded.replace(good, bad), ctx("coinmarketcap"), book=majors
            )
    empty = b'{"status": {"error_code": 0, "error_message": null}, "data": []}'
    with pytest.raises(InvalidDataError):
        coinmarketcap.parse_listings_ticks(empty, ctx("coinmarketcap"), book=majors)


def test_credits_follow_the_documented_cost() -> None:
    assert coinmarketcap.listings_request(100).cost == 1
    assert coinmarketcap.listings_request(250).cost == 2
    assert coinmarketcap.quotes_request([str(i) for i in range(101)]).cost == 2
