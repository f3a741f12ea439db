"""CoinGecko: the market-cap ranking (watch list), batch prices, the global market, coins/list.

Three plans: `public` (no key), `demo` (key in `x-cg-demo-api-key`) on api.coingecko.com, and
`pro` (key in `x-cg-pro-api-key`) on pro-api.coingecko.com. The OHLC and market_chart endpoints
are not used: OHLC bars carry no volume (a Candle needs one, and we never invent it).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import msgspec

from cryptohub.collector_market.assets import AssetBook, Coin
from cryptohub.collector_market.providers.decoding import (
    decode,
    from_unix,
    non_empty,
    positive_price,
)
from cryptohub.collector_market.watchlist import ListedCoin
from cryptohub.common.events import MarketGlobal, PriceTick
from cryptohub.common.providers import (
    ApiKey,
    InvalidDataError,
    KeyPlacement,
    ParseContext,
    ProviderSpec,
    RateLimits,
    Request,
)

NAME = "coingecko"
KEY_ENV = "COINGECKO_API_KEY"
Plan = Literal["public", "demo", "pro"]

# Published limits: public 5-15 calls/min depending on load (5 declared); Demo 30/min and
# 10,000 calls/month; Pro (Analyst) 500/min and 500,000/month. Override with provider_limits.
_LIMITS: dict[Plan, RateLimits] = {
    "public": RateLimits(per_minute=5),
    "demo": RateLimits(per_minute=30, monthly_credits=10_000),
    "pro": RateLimits(per_minute=500, monthly_credits=500_000),
}


def spec(plan: Plan) -> ProviderSpec:
    """The declaration for `plan`: base URL and key header differ between plans."""
    if plan == "pro":
        base, key = (
            "https://pro-api.coingecko.com",
            ApiKey(KEY_ENV, KeyPlacement.HEADER, "x-cg-pro-api-key"),
        )
    elif plan == "demo":
        base, key = (
            "https://api.coingecko.com",
            ApiKey(KEY_ENV, KeyPlacement.HEADER, "x-cg-demo-api-key"),
        )
    else:
        base, key = "https://api.coingecko.com", None
    return ProviderSpec(
        name=NAME,
        category="market",
        base_url=base,
        key=key,
        limits=_LIMITS[plan],
        conditional_get=False,
    )


# --- requests


def markets_request(*, top_n: int, ids: Sequence[str] = ()) -> Request:
    """The top `top_n` by market cap (or exactly `ids`), USD, one page of up to 250."""
    params: dict[str, str | int | float] = {
        "vs_currency": "usd",
        "order": "market_cap_desc",
        "per_page": min(250, max(top_n, len(ids), 1)),
        "page": 1,
        "sparkline": "false",
    }
    if ids:
        params["ids"] = ",".join(ids)
    return Request(endpoint="coins_markets", path="/api/v3/coins/markets", params=params)


def simple_price_request(ids: Sequence[str]) -> Request:
    return Request(
        endpoint="simple_price",
        path="/api/v3/simple/price",
        params={
            "ids": ",".join(ids),
            "vs_currencies": "usd",
            "include_market_cap": "true",
            "include_24hr_vol": "true",
            "include_24hr_change": "true",
            "include_last_updated_at": "true",
        },
    )


GLOBAL = Request(endpoint="global", path="/api/v3/global")
COINS_LIST = Request(endpoint="coins_list", path="/api/v3/coins/list")

# --- wire shapes


class _Market(msgspec.Struct):
    id: str
    symbol: str
    name: str
    current_price: float | None
    market_cap: float | None
    market_cap_rank: int | None
    total_volume: float | None
    price_change_percentage_24h: float | None
    last_updated: datetime | None


class _SimplePrice(msgspec.Struct):
    usd: float | None = None
    usd_market_cap: float | None = None
    usd_24h_vol: float | None = None
    usd_24h_change: float | None = None
    last_updated_at: int | None = None


class _GlobalData(msgspec.Struct):
    active_cryptocurrencies: int
    total_market_cap: dict[str, float]
    total_volume: dict[str, float]
    market_cap_percentage: dict[str, float]
    updated_at: int
    market_cap_change_percentage_24h_usd: float | None = None


class _Global(msgspec.Struct):
    data: _GlobalData


class _Coin(msgspec.Struct):
    id: str
    symbol: str
    name: str


_markets = msgspec.json.Decoder(list[_Market])
_simple = msgspec.json.Decoder(dict[str, _SimplePrice])
_global = msgspec.json.Decoder(_Global)
_coins = msgspec.json.Decoder(list[_Coin])

# --- parsers


def parse_markets_listing(body: bytes, ctx: ParseContext) -> list[ListedCoin]:
    """coins/markets -> the ranking, for the watch list (entries without a rank come last)."""
    rows = non_empty(decode(_markets, body, NAME), "coins/markets")
    return [
        ListedCoin(NAME, r.id, r.symbol, r.name, r.market_cap_rank, coingecko_id=r.id) for r in rows
    ]


def parse_markets_ticks(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """coins/markets -> one USD tick per watched asset; observed_at is CoinGecko's last_updated.

    An entry with no price is left out (CoinGecko says it has none); a price that is present but
    zero or negative makes the whole body invalid.
    """
    rows = non_empty(decode(_markets, body, NAME), "coins/markets")
    ticks = []
    for row in rows:
        asset = book.by_coingecko(row.id)
        if asset is None or row.current_price is None:
            continue
        ticks.append(
            PriceTick(
                source=NAME,
                symbol=asset.symbol,
                price=positive_price(row.current_price, f"{row.id}.current_price"),
                quote="usd",
                volume_24h=row.total_volume,
                market_cap=row.market_cap,
                change_24h_pct=row.price_change_percentage_24h,
                observed_at=row.last_updated or ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "coins/markets: no watched asset priced")


def parse_simple_price(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """simple/price -> one USD tick per watched asset; observed_at from last_updated_at."""
    prices = decode(_simple, body, NAME)
    ticks = []
    for coingecko_id, quote in prices.items():
        asset = book.by_coingecko(coingecko_id)
        if asset is None or quote.usd is None:
            continue
        observed = (
            from_unix(quote.last_updated_at, f"{coingecko_id}.last_updated_at")
            if quote.last_updated_at is not None
            else ctx.received_at
        )
        ticks.append(
            PriceTick(
                source=NAME,
                symbol=asset.symbol,
                price=positive_price(quote.usd, f"{coingecko_id}.usd"),
                quote="usd",
                volume_24h=quote.usd_24h_vol,
                market_cap=quote.usd_market_cap,
                change_24h_pct=quote.usd_24h_change,
                observed_at=observed,
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "simple/price: no watched asset priced")


def parse_global(body: bytes, ctx: ParseContext) -> MarketGlobal:
    """/global -> the market totals in USD and BTC/ETH dominance, as of CoinGecko's updated_at."""
    data = decode(_global, body, NAME).data
    try:
        total_cap = data.total_market_cap["usd"]
        volume = data.total_volume["usd"]
        btc = data.market_cap_percentage["btc"]
    except KeyError as missing:
        raise InvalidDataError(f"{NAME}: /global has no {missing.args[0]!r} figure") from None
    return MarketGlobal(
        source=NAME,
        total_market_cap_usd=total_cap,
        total_volume_usd=volume,
        btc_dominance_pct=btc,
        eth_dominance_pct=data.market_cap_percentage.get("eth"),
        active_cryptocurrencies=data.active_cryptocurrencies,
        market_cap_change_24h_pct=data.market_cap_change_percentage_24h_usd,
        observed_at=from_unix(data.updated_at, "updated_at"),
        received_at=ctx.received_at,
    )


def parse_coins_list(body: bytes, ctx: ParseContext) -> list[Coin]:
    """coins/list -> every coin CoinGecko knows (id, symbol, name)."""
    rows = non_empty(decode(_coins, body, NAME), "coins/list")
    return [Coin(r.id, r.symbol, r.name) for r in rows]
