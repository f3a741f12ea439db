"""CoinPaprika parsers on its recorded ticker, the list form and the documented global example."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers import coinpaprika
from cryptohub.common.providers import InvalidDataError, ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]

# No recording of GET /v1/global exists. Its fields' documented examples (CoinPaprika API docs,
# "Global": market_cap_usd, volume_24h_usd, bitcoin_dominance_percentage,
# cryptocurrencies_number, last_updated) make this body.
DOCUMENTED_GLOBAL = b"""{
  "market_cap_usd": 430252937008,
  "volume_24h_usd": 430252937008,
  "bitcoin_dominance_percentage": 36.67,
  "cryptocurrencies_number": 1587,
  "last_updated": 1525089441
}"""


def test_recorded_ticker_prices_bitcoin_at_paprika_time(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    [tick] = coinpaprika.parse_tickers(
        body("coinpaprika/tickers_btc-bitcoin_usd.json"), ctx("coinpaprika"), book=majors
    )
    assert (tick.source, tick.symbol, tick.price) == ("coinpaprika", "btc", 38054.559249568)
    assert (tick.volume_24h, tick.market_cap, tick.change_24h_pct) == (
        16010948942.9,
        720916758464,
        0.9,
    )
    assert tick.observed_at == datetime(2022, 1, 30, 18, 23, 8, tzinfo=UTC)


def test_list_form_is_an_array_of_the_same_objects(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    # /v1/tickers returns an array of what /v1/tickers/{id} returns (CoinPaprika docs); the
    # recorded object, in that array, reads the same.
    listed = b"[" + body("coinpaprika/tickers_btc-bitcoin_usd.json").strip() + b"]"
    [tick] = coinpaprika.parse_tickers(listed, ctx("coinpaprika"), book=majors)
    assert tick.price == 38054.559249568
    [coin] = coinpaprika.parse_listing(listed, ctx("coinpaprika"))
    assert (coin.provider_id, coin.symbol, coin.rank) == ("btc-bitcoin", "BTC", 1)


def test_documented_global_example(ctx: Ctx) -> None:
    market = coinpaprika.parse_global(DOCUMENTED_GLOBAL, ctx("coinpaprika"))
    assert (market.total_market_cap_usd, market.total_volume_usd) == (430252937008, 430252937008)
    assert (market.btc_dominance_pct, market.active_cryptocurrencies) == (36.67, 1587)
    assert market.observed_at == datetime.fromtimestamp(1525089441, UTC)


def test_bad_bodies(body: Body, ctx: Ctx, majors: AssetBook) -> None:
    recorded = body("coinpaprika/tickers_btc-bitcoin_usd.json")
    good = b'"price":38054.559249568'
    assert good in recorded
    for bad in (b'"price":0', b'"price":"38054.55"', b'"rice":38054.559249568'):
        with pytest.raises(InvalidDataError):
            coinpaprika.parse_tickers(recorded.replace(good, bad), ctx("coinpaprika"), book=majors)
    with pytest.raises(InvalidDataError, match="id not found"):
        coinpaprika.parse_tickers(b'{"error": "id not found"}', ctx("coinpaprika"), book=majors)
    with pytest.raises(InvalidDataError, match="bitcoin_dominance_percentage"):
        coinpaprika.parse_global(
            DOCUMENTED_GLOBAL.replace(b"36.67", b'"36.67"'), ctx("coinpaprika")
        )
