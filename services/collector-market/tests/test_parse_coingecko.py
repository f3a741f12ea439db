"""CoinGecko parsers on every recorded CoinGecko body, and on bad bodies."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cryptohub.collector_market.assets import AssetBook, CoinIndex
from cryptohub.collector_market.providers import coingecko
from cryptohub.common.providers import InvalidDataError, ParseContext, ParseError

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]


def test_markets_page_of_250_gives_the_ranking_in_order(body: Body, ctx: Ctx) -> None:
    listed = coingecko.parse_markets_listing(
        body("coingecko/coins_markets_usd_per_page250.json"), ctx("coingecko")
    )
    assert len(listed) == 250
    # CoinGecko itself ranked a bogus token first that day; the parser reports what it says.
    assert [(c.coingecko_id, c.symbol, c.rank) for c in listed[:3]] == [
        ("ticoex-token", "tico", 1),
        ("bitcoin", "btc", 2),
        ("ethereum", "eth", 3),
    ]


def test_markets_ticks_carry_price_volume_cap_change_and_coingecko_time(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    ticks = coingecko.parse_markets_ticks(
        body("coingecko/coins_markets_usd_per_page250.json"), ctx("coingecko"), book=majors
    )
    by_symbol = {t.symbol: t for t in ticks}
    assert set(by_symbol) == {"btc", "eth", "usdt", "bnb", "xrp", "doge"}
    btc = by_symbol["btc"]
    assert (btc.source, btc.quote, btc.price) == ("coingecko", "usd", 38938)
    assert (btc.volume_24h, btc.market_cap, btc.change_24h_pct) == (
        19584692179,
        738310755630,
        3.47958,
    )
    assert btc.observed_at == datetime(2022, 2, 23, 11, 30, 23, 307000, tzinfo=UTC)
    assert by_symbol["eth"].price == 2726.53


def test_markets_single_coin_body(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    [tick] = coingecko.parse_markets_ticks(
        body("coingecko/coins_markets_bitcoin_usd.json"), ctx("coingecko"), book=majors
    )
    assert (tick.symbol, tick.price, tick.market_cap) == ("btc", 49053, 917825524991)
    assert tick.observed_at == datetime(2021, 5, 15, 15, 59, 43, 867000, tzinfo=UTC)


def test_markets_priced_in_eth_is_read_only_as_a_ranking(body: Body, ctx: Ctx) -> None:
    # The collector always asks vs_currency=usd; this recording was asked in ETH, so its prices
    # are never read as USD ticks. Its ranking is still a ranking.
    listed = coingecko.parse_markets_listing(
        body("coingecko/coins_markets_bitcoin_ethereum_vs_eth.json"), ctx("coingecko")
    )
    assert [(c.coingecko_id, c.rank) for c in listed] == [("bitcoin", 1), ("ethereum", 2)]


def test_simple_price_without_a_time_is_observed_when_received(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    context = ctx("coingecko")
    [tick] = coingecko.parse_simple_price(
        body("coingecko/simple_price_bitcoin_usd.json"), context, book=majors
    )
    assert (tick.symbol, tick.price, tick.quote) == ("btc", 49253, "usd")
    assert tick.observed_at == context.received_at
    assert tick.volume_24h is None


def test_global_gives_usd_totals_dominance_and_coingecko_time(body: Body, ctx: Ctx) -> None:
    market = coingecko.parse_global(body("coingecko/global.json"), ctx("coingecko"))
    assert market.total_market_cap_usd == 2142953338976.9612
    assert market.total_volume_usd == 290548797852.028
    assert market.btc_dominance_pct == 38.259132842486686
    assert market.eth_dominance_pct == 18.555868478228195
    assert market.active_cryptocurrencies == 7362
    assert market.market_cap_change_24h_pct == -0.9554088490358789
    assert market.observed_at == datetime.fromtimestamp(1621346159, UTC)


def test_coins_list_indexes_every_coin_and_sees_symbol_collisions(body: Body, ctx: Ctx) -> None:
    coins = coingecko.parse_coins_list(body("coingecko/coins_list.json"), ctx("coingecko"))
    index = CoinIndex(coins)
    assert len(index) == 17892
    assert {c.coingecko_id for c in index.with_symbol("btc")} == {
        "batcat",
        "big-tom-coin",
        "bitcoin",
        "blackrocktradingcurrency",
        "bobby-the-cat",
        "osmosis-allbtc",
    }
    assert index.resolve("btc", "Bitcoin") == "bitcoin"
    assert index.resolve("btc", "No Such Coin") is None


@pytest.mark.parametrize(
    "name",
    [
        "coingecko/coins_bitcoin_ohlc_7d_usd.json",  # OHLC: no volume, so never a Candle
        "coingecko/coins_bitcoin_market_chart_90d_daily_usd.json",
        "coingecko/coins_bitcoin_market_chart_1d_usd.json",
        "coingecko/search_trending.json",
        "coingecko/error_422_missing_vs_currency.json",
        "coingecko/error_500_ohlc.json",
    ],
)
def test_bodies_of_endpoints_we_do_not_read_are_refused_as_markets(
    name: str, body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    with pytest.raises(InvalidDataError):
        coingecko.parse_markets_ticks(body(name), ctx("coingecko"), book=majors)


def test_error_envelope_says_what_coingecko_said(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    with pytest.raises(InvalidDataError, match="Missing parameter vs_currency"):
        coingecko.parse_markets_ticks(
            body("coingecko/error_422_missing_vs_currency.json"), ctx("coingecko"), book=majors
        )


GOOD = b'"current_price":49053,'


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (b'"current_price":"49053",', InvalidDataError),  # a string where a number belongs
        (b'"current_price":0,', InvalidDataError),  # zero price
        (b'"current_price":-49053,', InvalidDataError),  # negative price
        (b"", InvalidDataError),  # the field is missing
    ],
)
def test_bad_markets_bodies_are_invalid_data(
    bad: bytes, error: type[Exception], body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    original = body("coingecko/coins_markets_bitcoin_usd.json")
    assert GOOD in original
    with pytest.raises(error):
        coingecko.parse_markets_ticks(original.replace(GOOD, bad), ctx("coingecko"), book=majors)


def test_empty_list_and_broken_json_are_refused(ctx: Ctx, majors: AssetBook) -> None:
    with pytest.raises(InvalidDataError, match="nothing usable"):
        coingecko.parse_markets_ticks(b"[]", ctx("coingecko"), book=majors)
    with pytest.raises(ParseError):
        coingecko.parse_markets_ticks(b'[{"id": "bitcoin"', ctx("coingecko"), book=majors)


def test_a_null_price_is_missing_not_zero(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    original = body("coingecko/coins_markets_bitcoin_usd.json")
    nulled = original.replace(GOOD, b'"current_price":null,')
    # The only coin has no price: nothing to publish, which is an error, never an empty success.
    with pytest.raises(InvalidDataError, match="no watched asset priced"):
        coingecko.parse_markets_ticks(nulled, ctx("coingecko"), book=majors)


def test_unwatched_coins_are_not_priced(body: Body, ctx: Ctx) -> None:
    with pytest.raises(InvalidDataError):
        coingecko.parse_markets_ticks(
            body("coingecko/coins_markets_bitcoin_usd.json"), ctx("coingecko"), book=AssetBook([])
        )


def test_plans_differ_in_base_url_and_key_header() -> None:
    public, demo, pro = (coingecko.spec(p) for p in ("public", "demo", "pro"))
    assert public.key is None
    assert public.base_url == demo.base_url == "https://api.coingecko.com"
    assert demo.key is not None
    assert demo.key.name == "x-cg-demo-api-key"
    assert pro.base_url == "https://pro-api.coingecko.com"
    assert pro.key is not None
    assert pro.key.name == "x-cg-pro-api-key"
    assert demo.limits.monthly_credits == 10_000
