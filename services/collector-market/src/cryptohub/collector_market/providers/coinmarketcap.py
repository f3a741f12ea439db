"""CoinMarketCap (key required): listings/latest (ranking and prices) and quotes/latest by id.

Every answer carries `status.error_code`; non-zero is an error even with HTTP 200. Credits: one
per 200 listings, one per 100 quoted ids; the Basic plan has 10,000 a month and 30 calls a
minute.
"""

import math
from collections.abc import Sequence
from datetime import datetime

import msgspec

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers.decoding import decode, non_empty, positive_price
from cryptohub.collector_market.watchlist import ListedCoin
from cryptohub.common.events import PriceTick
from cryptohub.common.providers import (
    ApiKey,
    InvalidDataError,
    KeyPlacement,
    ParseContext,
    ProviderSpec,
    RateLimits,
    Request,
)

NAME = "coinmarketcap"
SPEC = ProviderSpec(
    name=NAME,
    category="market",
    base_url="https://pro-api.coinmarketcap.com",
    key=ApiKey("COINMARKETCAP_API_KEY", KeyPlacement.HEADER, "X-CMC_PRO_API_KEY"),
    limits=RateLimits(per_minute=30, monthly_credits=10_000),
)


def listings_request(limit: int) -> Request:
    return Request(
        endpoint="listings_latest",
        path="/v1/cryptocurrency/listings/latest",
        params={"start": 1, "limit": limit, "convert": "USD"},
        cost=max(1, math.ceil(limit / 200)),
    )


def quotes_request(ids: Sequence[str]) -> Request:
    return Request(
        endpoint="quotes_latest",
        path="/v2/cryptocurrency/quotes/latest",
        params={"id": ",".join(ids), "convert": "USD"},
        cost=max(1, math.ceil(len(ids) / 100)),
    )


class _Status(msgspec.Struct):
    error_code: int
    error_message: str | None = None


class _Usd(msgspec.Struct):
    price: float | None
    volume_24h: float | None
    percent_change_24h: float | None
    market_cap: float | None
    last_updated: datetime


class _Quote(msgspec.Struct):
    USD: _Usd


class _Coin(msgspec.Struct):
    id: int
    name: str
    symbol: str
    slug: str
    cmc_rank: int | None
    quote: _Quote


class _Listings(msgspec.Struct):
    status: _Status
    data: list[_Coin] | None = None


class _Quotes(msgspec.Struct):
    status: _Status
    data: dict[str, _Coin] | None = None


class _StatusOnly(msgspec.Struct):
    status: _Status


_listings = msgspec.json.Decoder(_Listings)
_quotes = msgspec.json.Decoder(_Quotes)
_status = msgspec.json.Decoder(_StatusOnly)


def _check_status(body: bytes) -> None:
    status = decode(_status, body, NAME).status
    if status.error_code != 0:
        raise InvalidDataError(
            f"{NAME} error {status.error_code}: {status.error_message or 'no message'}"
        )


def _tick(coin: _Coin, book: AssetBook, ctx: ParseContext) -> PriceTick | None:
    asset = book.by_listing(NAME, str(coin.id), coin.symbol, coin.name, coin.slug)
    usd = coin.quote.USD
    if asset is None or usd.price is None:
        return None
    return PriceTick(
        source=NAME,
        symbol=asset.symbol,
        price=positive_price(usd.price, f"{coin.slug}.price"),
        quote="usd",
        volume_24h=usd.volume_24h,
        market_cap=usd.market_cap,
        change_24h_pct=usd.percent_change_24h,
        observed_at=usd.last_updated,
        received_at=ctx.received_at,
    )


def _coins(body: bytes) -> list[_Coin]:
    _check_status(body)
    return non_empty(decode(_listings, body, NAME).data or [], "listings/latest")


def parse_listings_ticks(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """listings/latest -> a USD tick per watched asset, observed at CMC's last_updated."""
    ticks = [t for coin in _coins(body) if (t := _tick(coin, book, ctx)) is not None]
    return non_empty(ticks, "listings/latest: no watched asset")


def parse_listings(body: bytes, ctx: ParseContext) -> list[ListedCoin]:
    """listings/latest -> the ranking, for the watch list when CoinGecko cannot give it."""
    return [ListedCoin(NAME, str(c.id), c.symbol, c.name, c.cmc_rank) for c in _coins(body)]


def parse_quotes(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """quotes/latest (v2, by id) -> a USD tick per watched asset."""
    _check_status(body)
    data = decode(_quotes, body, NAME).data or {}
    ticks = [t for coin in data.values() if (t := _tick(coin, book, ctx)) is not None]
    return non_empty(ticks, "quotes/latest: no watched asset")
