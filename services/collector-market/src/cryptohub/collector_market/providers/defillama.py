"""DefiLlama: protocol TVL (all protocols, or one in detail), chain TVL, total DeFi TVL, and
current prices by CoinGecko id from its coins API (another host: `defillama_coins`).

TVL points use DefiLlama's names slugified (`Polygon Bridge & Staking` -> `polygon-bridge-staking`,
`Ethereum` -> `ethereum`). Chain TVL and the DeFi total are published under protocol `all`.
A protocol's `chainTvls` also holds category buckets (`staking`, `pool2`, `borrowed`,
`Ethereum-staking`, ...); they are not chains and DefiLlama's own TVL leaves them out, so do we.
"""

import re
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

import msgspec

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers.decoding import (
    decode,
    from_unix,
    non_empty,
    number,
    positive_price,
)
from cryptohub.common.events import PriceTick, TvlPoint
from cryptohub.common.providers import (
    InvalidDataError,
    ParseContext,
    ProviderSpec,
    RateLimits,
    Request,
)

NAME = "defillama"
COINS_NAME = "defillama_coins"
ALL: Final = "all"  # the protocol name of chain totals and of the DeFi total
SPEC = ProviderSpec(
    name=NAME,
    category="defi",
    base_url="https://api.llama.fi",
    limits=RateLimits(per_minute=300),
    max_body_bytes=64 * 1024 * 1024,  # /protocols lists every protocol with its chains
)
COINS_SPEC = ProviderSpec(
    name=COINS_NAME,
    category="market",
    base_url="https://coins.llama.fi",
    limits=RateLimits(per_minute=300),
)
# Buckets of chainTvls that are categories, not chains (alone or as a `Chain-category` suffix).
CATEGORY_BUCKETS: Final = frozenset(
    {
        "staking",
        "pool2",
        "borrowed",
        "doublecounted",
        "liquidstaking",
        "vesting",
        "treasury",
        "offers",
        "dcandlsoverlap",
    }
)
# Protocol categories whose "TVL" is not locked in DeFi (exchange reserves).
EXCLUDED_CATEGORIES: Final = frozenset({"CEX"})
# DefiLlama's own confidence below which it advises not to trust a coins price.
MIN_PRICE_CONFIDENCE: Final = 0.8

PROTOCOLS = Request(endpoint="protocols", path="/protocols")
CHAINS = Request(endpoint="chains", path="/v2/chains")
TOTAL = Request(endpoint="historical_chain_tvl", path="/v2/historicalChainTvl")
CHARTS = Request(endpoint="charts", path="/charts")  # the old name of historicalChainTvl


def protocol_request(slug: str) -> Request:
    return Request(endpoint="protocol", path=f"/protocol/{slug}")


def coins_request(coingecko_ids: Sequence[str]) -> Request:
    coins = ",".join(f"coingecko:{i}" for i in coingecko_ids)
    return Request(endpoint="prices_current", path=f"/prices/current/{coins}")


_NOT_SLUG = re.compile(r"[^a-z0-9_]+")


def slug(name: str) -> str | None:
    """DefiLlama's name as a subject-safe slug, or None if nothing is left of it."""
    value = _NOT_SLUG.sub("-", name.lower()).strip("-_")[:64].strip("-_")
    return value or None


def is_chain(bucket: str) -> bool:
    lowered = bucket.lower()
    return lowered not in CATEGORY_BUCKETS and lowered.rsplit("-", 1)[-1] not in CATEGORY_BUCKETS


class _Protocol(msgspec.Struct):
    name: str
    slug: str
    tvl: float | None
    chainTvls: dict[str, float]  # noqa: N815 - DefiLlama's field names
    category: str | None = None
    change_1d: float | None = None


class _Point(msgspec.Struct):
    date: int
    totalLiquidityUSD: float  # noqa: N815


class _Series(msgspec.Struct):
    tvl: list[_Point]


class _ProtocolDetail(msgspec.Struct):
    name: str
    tvl: list[_Point]
    chainTvls: dict[str, _Series]  # noqa: N815
    currentChainTvls: dict[str, float]  # noqa: N815


class _Chain(msgspec.Struct):
    name: str
    tvl: float


class _TotalPoint(msgspec.Struct):
    date: int
    tvl: float


class _ChartPoint(msgspec.Struct):
    date: str
    totalLiquidityUSD: float  # noqa: N815


class _CoinPrice(msgspec.Struct):
    price: float
    symbol: str
    timestamp: float
    confidence: float | None = None


class _Coins(msgspec.Struct):
    coins: dict[str, _CoinPrice]


_protocols = msgspec.json.Decoder(list[_Protocol])
_detail = msgspec.json.Decoder(_ProtocolDetail)
_chains = msgspec.json.Decoder(list[_Chain])
_total = msgspec.json.Decoder(list[_TotalPoint])
_charts = msgspec.json.Decoder(list[_ChartPoint])
_coins = msgspec.json.Decoder(_Coins)


def _point(
    ctx: ParseContext,
    protocol: str,
    tvl: float,
    *,
    chain: str | None,
    observed_at: datetime,
    change_1d_pct: float | None = None,
) -> TvlPoint:
    return TvlPoint(
        source=NAME,
        protocol=protocol,
        tvl_usd=tvl,
        chain=chain,
        change_1d_pct=change_1d_pct,
        observed_at=observed_at,
        received_at=ctx.received_at,
    )


def parse_protocols(
    body: bytes, ctx: ParseContext, *, top_n: int, exclude: Collection[str] = ()
) -> list[TvlPoint]:
    """/protocols -> the `top_n` protocols by TVL: their total and each chain's share.

    The list gives no time: observed_at is when we received it.
    """
    rows = non_empty(decode(_protocols, body, NAME), "protocols")
    ranked = sorted(
        (
            r
            for r in rows
            if r.tvl is not None and r.category not in EXCLUDED_CATEGORIES and r.slug not in exclude
        ),
        key=lambda r: r.tvl or 0.0,
        reverse=True,
    )
    points = []
    for row in ranked[:top_n]:
        protocol = slug(row.slug)
        if protocol is None or row.tvl is None:
            continue
        at = ctx.received_at
        points.append(
            _point(ctx, protocol, row.tvl, chain=None, change_1d_pct=row.change_1d, observed_at=at)
        )
        for bucket, tvl in sorted(row.chainTvls.items()):
            chain = slug(bucket)
            if chain is not None and is_chain(bucket):
                points.append(_point(ctx, protocol, tvl, chain=chain, observed_at=at))
    return non_empty(points, "protocols: no protocol with a TVL")


def parse_protocol(body: bytes, ctx: ParseContext, *, protocol: str) -> list[TvlPoint]:
    """/protocol/{slug} -> the protocol's current total and per-chain TVL, each as of the date
    of its latest point."""
    detail = decode(_detail, body, NAME)
    latest = non_empty(detail.tvl, "protocol tvl")[-1]
    points = [
        _point(
            ctx,
            protocol,
            latest.totalLiquidityUSD,
            chain=None,
            observed_at=from_unix(latest.date, "tvl.date"),
        )
    ]
    for bucket, tvl in sorted(detail.currentChainTvls.items()):
        chain = slug(bucket)
        series = detail.chainTvls.get(bucket)
        if chain is None or not is_chain(bucket) or series is None or not series.tvl:
            continue
        at = from_unix(series.tvl[-1].date, f"{bucket}.date")
        points.append(_point(ctx, protocol, tvl, chain=chain, observed_at=at))
    return points


def parse_chains(body: bytes, ctx: ParseContext, *, top_n: int) -> list[TvlPoint]:
    """/v2/chains -> the TVL of the `top_n` chains (protocol `all`), observed when received."""
    rows = non_empty(decode(_chains, body, NAME), "chains")
    points = []
    for row in sorted(rows, key=lambda r: r.tvl, reverse=True)[:top_n]:
        chain = slug(row.name)
        if chain is not None:
            points.append(_point(ctx, ALL, row.tvl, chain=chain, observed_at=ctx.received_at))
    return non_empty(points, "chains")


def parse_total(body: bytes, ctx: ParseContext) -> TvlPoint:
    """/v2/historicalChainTvl -> today's total DeFi TVL (protocol `all`, every chain)."""
    latest = non_empty(decode(_total, body, NAME), "historicalChainTvl")[-1]
    return _point(ctx, ALL, latest.tvl, chain=None, observed_at=from_unix(latest.date, "date"))


def parse_charts(body: bytes, ctx: ParseContext) -> TvlPoint:
    """/charts (the old historicalChainTvl; dates are strings) -> today's total DeFi TVL."""
    latest = non_empty(decode(_charts, body, NAME), "charts")[-1]
    at = from_unix(number(latest.date, "date"), "date")
    return _point(ctx, ALL, latest.totalLiquidityUSD, chain=None, observed_at=at)


def parse_coin_prices(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """prices/current -> a USD tick per watched asset DefiLlama prices with confidence."""
    coins = decode(_coins, body, COINS_NAME).coins
    ticks = []
    for key, coin in coins.items():
        chain, _, coingecko_id = key.partition(":")
        if chain != "coingecko":
            raise InvalidDataError(f"{COINS_NAME}: unexpected coin key {key!r}")
        asset = book.by_coingecko(coingecko_id)
        if asset is None or (
            coin.confidence is not None and coin.confidence < MIN_PRICE_CONFIDENCE
        ):
            continue
        ticks.append(
            PriceTick(
                source=COINS_NAME,
                symbol=asset.symbol,
                price=positive_price(coin.price, f"{key}.price"),
                quote="usd",
                observed_at=from_unix(coin.timestamp, f"{key}.timestamp"),
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "prices/current: no watched asset")
