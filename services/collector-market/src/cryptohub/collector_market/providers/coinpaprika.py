"""CoinPaprika: every ticker in one call (prices and the ranking), and the global market.

`/v1/tickers` returns an array of the objects `/v1/tickers/{id}` returns one of. Free plan:
20,000 calls a month.
"""

from datetime import datetime

import msgspec

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers.decoding import (
    decode,
    from_unix,
    non_empty,
    positive_price,
)
from cryptohub.collector_market.watchlist import ListedCoin
from cryptohub.common.events import MarketGlobal, PriceTick
from cryptohub.common.providers import ParseContext, ProviderSpec, RateLimits, Request

NAME = "coinpaprika"
SPEC = ProviderSpec(
    name=NAME,
    category="market",
    base_url="https://api.coinpaprika.com",
    limits=RateLimits(per_minute=60, monthly_credits=20_000),
)

TICKERS = Request(endpoint="tickers", path="/v1/tickers", params={"quotes": "USD"})
GLOBAL = Request(endpoint="global", path="/v1/global")


class _Usd(msgspec.Struct):
    price: float | None
    volume_24h: float | None = None
    market_cap: float | None = None
    percent_change_24h: float | None = None


class _Quotes(msgspec.Struct):
    USD: _Usd


class _Ticker(msgspec.Struct):
    id: str
    name: str
    symbol: str
    rank: int
    last_updated: datetime
    quotes: _Quotes


class _Global(msgspec.Struct):
    market_cap_usd: float
    volume_24h_usd: float
    bitcoin_dominance_percentage: float
    cryptocurrencies_number: int
    last_updated: int
    market_cap_change_24h: float | None = None


_tickers = msgspec.json.Decoder(list[_Ticker] | _Ticker)
_global = msgspec.json.Decoder(_Global)


def _rows(body: bytes) -> list[_Ticker]:
    decoded = decode(_tickers, body, NAME)
    return non_empty(decoded if isinstance(decoded, list) else [decoded], "tickers")


def parse_tickers(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """tickers -> a USD tick per watched asset, observed at CoinPaprika's last_updated."""
    ticks = []
    for row in _rows(body):
        asset = book.by_listing(NAME, row.id, row.symbol, row.name)
        usd = row.quotes.USD
        if asset is None or usd.price is None:
            continue
        ticks.append(
            PriceTick(
                source=NAME,
                symbol=asset.symbol,
                price=positive_price(usd.price, f"{row.id}.price"),
                quote="usd",
                volume_24h=usd.volume_24h,
                market_cap=usd.market_cap,
                change_24h_pct=usd.percent_change_24h,
                observed_at=row.last_updated,
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "tickers: no watched asset")


def parse_listing(body: bytes, ctx: ParseContext) -> list[ListedCoin]:
    """tickers -> the ranking, for the watch list when CoinGecko cannot give it."""
    return [ListedCoin(NAME, r.id, r.symbol, r.name, r.rank) for r in _rows(body)]


def parse_global(body: bytes, ctx: ParseContext) -> MarketGlobal:
    """/v1/global -> the market totals, as of CoinPaprika's last_updated."""
    data = decode(_global, body, NAME)
    return MarketGlobal(
        source=NAME,
        total_market_cap_usd=data.market_cap_usd,
        total_volume_usd=data.volume_24h_usd,
        btc_dominance_pct=data.bitcoin_dominance_percentage,
        active_cryptocurrencies=data.cryptocurrencies_number,
        market_cap_change_24h_pct=data.market_cap_change_24h,
        observed_at=from_unix(data.last_updated, "last_updated"),
        received_at=ctx.received_at,
    )
