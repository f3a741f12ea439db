"""CoinCap: the top assets with prices in one call (`/v3/assets`, key required).

CoinCap retired its keyless v2 API in 2025; v3 answers `/v3/assets` in the v2 shape
(`{"data": [...], "timestamp": ms}`, every number a string). `timestamp` is when CoinCap answered,
not when a price changed, so observed_at is when we received it.
"""

import msgspec

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers.decoding import (
    decode,
    non_empty,
    number,
    optional_number,
    positive_price,
)
from cryptohub.collector_market.watchlist import ListedCoin
from cryptohub.common.events import PriceTick
from cryptohub.common.providers import (
    ApiKey,
    KeyPlacement,
    ParseContext,
    ProviderSpec,
    RateLimits,
    Request,
)

NAME = "coincap"
ASSETS_PATH = "/v3/assets"
SPEC = ProviderSpec(
    name=NAME,
    category="market",
    base_url="https://rest.coincap.io",
    key=ApiKey("COINCAP_API_KEY", KeyPlacement.QUERY, "apiKey"),
    # Free plan: 2,500 credits a month; a per-minute bound keeps bursts polite.
    limits=RateLimits(per_minute=60, monthly_credits=2_500),
)


def assets_request(limit: int) -> Request:
    return Request(endpoint="assets", path=ASSETS_PATH, params={"limit": max(1, min(limit, 2000))})


class _Asset(msgspec.Struct):
    id: str
    rank: str
    symbol: str
    name: str
    priceUsd: str | None  # noqa: N815 - CoinCap's field names
    marketCapUsd: str | None  # noqa: N815
    volumeUsd24Hr: str | None  # noqa: N815
    changePercent24Hr: str | None  # noqa: N815


class _Assets(msgspec.Struct):
    data: list[_Asset]
    timestamp: int


_assets = msgspec.json.Decoder(_Assets)


def _rows(body: bytes) -> list[_Asset]:
    return non_empty(decode(_assets, body, NAME).data, "assets")


def parse_assets(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """assets -> a USD tick per watched asset."""
    ticks = []
    for row in _rows(body):
        asset = book.by_listing(NAME, row.id, row.symbol, row.name)
        if asset is None or row.priceUsd is None:
            continue
        ticks.append(
            PriceTick(
                source=NAME,
                symbol=asset.symbol,
                price=positive_price(number(row.priceUsd, f"{row.id}.priceUsd"), row.id),
                quote="usd",
                volume_24h=optional_number(row.volumeUsd24Hr, f"{row.id}.volumeUsd24Hr"),
                market_cap=optional_number(row.marketCapUsd, f"{row.id}.marketCapUsd"),
                change_24h_pct=optional_number(row.changePercent24Hr, f"{row.id}.change"),
                observed_at=ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "assets: no watched asset")


def parse_listing(body: bytes, ctx: ParseContext) -> list[ListedCoin]:
    """assets -> the ranking, for the watch list when CoinGecko cannot give it."""
    return [
        ListedCoin(NAME, r.id, r.symbol, r.name, int(number(r.rank, f"{r.id}.rank")))
        for r in _rows(body)
    ]
