"""The old hub's REST routes under `/api`, same shapes (fields only added), real data only.

Where the old hub answered 200 with invented numbers, these answer 503 (no data, or data older
than `stale_after_s`) or 404 (nothing for that symbol). The mapping is in the gateway README.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Literal

import msgspec
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import PathParameter, QueryParameter
from litestar.types import Guard

from cryptohub.common import subjects
from cryptohub.common.events import MarketGlobal, PriceTick, ProviderStateRecord
from cryptohub.gateway.api.freshness import age_s, now
from cryptohub.gateway.api.prices import consensus_prices
from cryptohub.gateway.api.problems import (
    Problem,
    ProblemError,
    problem_responses,
    validation_response,
)
from cryptohub.gateway.api.providers import provider_records
from cryptohub.gateway.api.sentiment import latest_indexes
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.candles import candles
from cryptohub.gateway.store.history import asset_sentiment, index_daily
from cryptohub.gateway.store.news import ArticleRow, articles

__all__ = ["legacy_router"]

_TIMEFRAMES: Final = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w")
_OURS: Final = frozenset({"1m", "5m", "15m", "1h", "4h", "1d"})
_LABEL_TO_OLD: Final = {"bullish": "positive", "bearish": "negative", "neutral": "neutral"}
_OLD_TO_LABEL: Final = {v: k for k, v in _LABEL_TO_OLD.items()}
_INDEX_STALE: Final = timedelta(hours=48)  # Fear & Greed is daily


def iso_z(moment: datetime) -> str:
    """RFC 3339 UTC with `Z` and milliseconds, as the old hub's pages expect."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _stale(runtime: Runtime, moment: datetime) -> bool:
    return (now() - moment).total_seconds() > runtime.settings.stale_after_s


# --- /api/market


class Coin(msgspec.Struct, frozen=True, kw_only=True):
    rank: int
    symbol: str
    name: str
    price: float
    change_24h: float | None
    volume_24h: float | None
    market_cap: float | None


class MarketOut(msgspec.Struct, frozen=True, kw_only=True):
    success: bool
    total_market_cap: float
    totalMarketCap: float  # noqa: N815 - the old hub's name
    total_volume: float
    totalVolume: float  # noqa: N815
    btc_dominance: float
    eth_dominance: float | None
    active_coins: int | None
    activeCoins: int | None  # noqa: N815
    timestamp: str
    source: str
    cryptocurrencies: list[Coin]
    as_of: str
    age_s: float


@get(
    "/market",
    summary="Market overview (old hub)",
    responses=problem_responses(422, 503),
    sync_to_thread=False,
)
def market(
    runtime: NamedDependency[Runtime],
    limit: Annotated[int, QueryParameter(ge=1, le=250)] = 10,
) -> MarketOut:
    """Market totals and the top `limit` assets by market cap (consensus prices)."""
    found = [
        m.event
        for m in runtime.live.by_source(subjects.market_global()).values()
        if isinstance(m.event, MarketGlobal)
    ]
    newest = max(found, key=lambda g: g.observed_at, default=None)
    stale_after = runtime.settings.stale_after_s
    if newest is None or _stale(runtime, newest.observed_at):
        raise ProblemError(
            503,
            f"no market snapshot newer than {stale_after:.0f} s",
            headers={"Retry-After": "30"},
            retry_after_s=30,
        )
    ticks = [t for t in consensus_prices(runtime.live) if not _stale(runtime, t.observed_at)]
    ticks.sort(key=lambda t: (t.market_cap is None, -(t.market_cap or 0.0), t.symbol))
    coins = [_coin(i, t) for i, t in enumerate(ticks[:limit], start=1)]
    dominance_eth = newest.eth_dominance_pct
    return MarketOut(
        success=True,
        total_market_cap=newest.total_market_cap_usd,
        totalMarketCap=newest.total_market_cap_usd,
        total_volume=newest.total_volume_usd,
        totalVolume=newest.total_volume_usd,
        btc_dominance=round(newest.btc_dominance_pct, 2),
        eth_dominance=None if dominance_eth is None else round(dominance_eth, 2),
        active_coins=newest.active_cryptocurrencies,
        activeCoins=newest.active_cryptocurrencies,
        timestamp=iso_z(newest.observed_at),
        source=newest.source,
        cryptocurrencies=coins,
        as_of=iso_z(newest.observed_at),
        age_s=age_s(newest.observed_at) or 0.0,
    )


def _coin(rank: int, t: PriceTick) -> Coin:
    return Coin(
        rank=rank,
        symbol=t.symbol.upper(),
        name=t.symbol.upper(),
        price=t.price,
        change_24h=t.change_24h_pct,
        volume_24h=t.volume_24h,
        market_cap=t.market_cap,
    )


# --- /api/market/ohlc


class OhlcPoint(msgspec.Struct, frozen=True, kw_only=True):
    open: float
    high: float
    low: float
    close: float
    volume: float
    timestamp: int


class OhlcOut(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    timeframe: str
    source: str
    ohlc: list[OhlcPoint]
    data: list[OhlcPoint]


TimeframeQuery = Annotated[str | None, QueryParameter(max_length=16, required=False)]


@get("/market/ohlc", summary="Candles (old hub)", responses=problem_responses(404, 422, 503))
async def market_ohlc(
    runtime: NamedDependency[Runtime],
    symbol: Annotated[str, QueryParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")],
    timeframe: TimeframeQuery = None,
    interval: TimeframeQuery = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> OhlcOut:
    """The latest `limit` candles in ascending time; `interval` is an alias of `timeframe`."""
    if timeframe and interval and timeframe != interval:
        raise ProblemError(400, f"timeframe {timeframe!r} and interval {interval!r} differ")
    chosen = timeframe or interval or "1h"
    if chosen not in _TIMEFRAMES:
        raise ProblemError(
            400, f"Invalid timeframe {chosen!r}. Valid timeframes: {', '.join(_TIMEFRAMES)}"
        )
    sym = symbol.lower()
    rows = []
    if chosen in _OURS:
        rows = await candles(
            runtime.db,
            symbol=sym,
            interval=chosen,
            start=None,
            end=now() + timedelta(days=1),
            limit=limit,
        )
    if not rows:
        raise ProblemError(404, f"No OHLC data found for symbol {symbol.upper()!r} ({chosen})")
    points = [
        OhlcPoint(
            open=r.open,
            high=r.high,
            low=r.low,
            close=r.close,
            volume=r.volume,
            timestamp=_ms(r.open_time),
        )
        for r in rows
    ]
    source = Counter(r.source for r in rows).most_common(1)[0][0]
    return OhlcOut(symbol=symbol.upper(), timeframe=chosen, source=source, ohlc=points, data=points)


# --- /api/news


class OldArticle(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    description: str
    content: str
    source: str
    published_at: str
    url: str
    sentiment: str | None
    sentiment_score: float | None
    tags: list[str]


class NewsOut(msgspec.Struct, frozen=True, kw_only=True):
    articles: list[OldArticle]
    news: list[OldArticle]
    total: int
    timestamp: str


def _old_article(r: ArticleRow) -> OldArticle:
    body = r.summary
    description = body if len(body) <= 200 else body[:200] + "..."
    return OldArticle(
        id=r.article_id,
        title=r.title,
        description=description,
        content=body,
        source=r.outlet or r.source,
        published_at=iso_z(r.observed_at),
        url=r.url,
        sentiment=_LABEL_TO_OLD.get(r.sentiment_label or ""),
        sentiment_score=r.sentiment_score,
        tags=[s.upper() for s in r.symbols],
    )


@get(["/news", "/news/latest"], summary="News (old hub)", responses=problem_responses(422, 503))
async def news(
    runtime: NamedDependency[Runtime],
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    source: Annotated[
        str | None, QueryParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$", required=False)
    ] = None,
    sentiment: Annotated[
        Literal["positive", "negative", "neutral"] | None, QueryParameter(required=False)
    ] = None,
) -> NewsOut:
    """The newest articles; `sentiment` is null until a model has scored the article."""
    rows = await articles(
        runtime.db,
        symbol=None,
        source=source.lower() if source else None,
        since=None,
        after=None,
        limit=limit,
        label=_OLD_TO_LABEL[sentiment] if sentiment else None,
    )
    items = [_old_article(r) for r in rows]
    return NewsOut(articles=items, news=items, total=len(items), timestamp=iso_z(now()))


# --- /api/sentiment


class HistoryPoint(msgspec.Struct, frozen=True, kw_only=True):
    timestamp: int
    sentiment: int
    volume: int | None


class SentimentOut(msgspec.Struct, frozen=True, kw_only=True):
    fear_greed_index: int
    fear_greed_label: str
    classification: str
    sentiment: str
    market_mood: str
    confidence: float | None
    history: list[HistoryPoint]
    timestamp: str
    source: str
    age_s: float


_WINDOWS: Final = {"1D": 1, "7D": 7, "30D": 30, "1Y": 365}


def _band(value: int) -> tuple[str, str]:
    if value >= 75:
        return "extreme_greed", "very_bullish"
    if value >= 55:
        return "greed", "bullish"
    if value >= 45:
        return "neutral", "neutral"
    if value >= 25:
        return "fear", "bearish"
    return "extreme_fear", "very_bearish"


@get(
    ["/sentiment", "/sentiment/global"],
    summary="Fear & Greed (old hub)",
    responses=problem_responses(422, 503),
)
async def sentiment_global(
    runtime: NamedDependency[Runtime],
    timeframe: Annotated[str, QueryParameter(max_length=16)] = "1D",
) -> SentimentOut:
    """The latest Fear & Greed value with its daily history over `timeframe` (1D, 7D, 30D, 1Y)."""
    indexes = latest_indexes(runtime.live)
    chosen = _fear_greed(indexes)
    if chosen is None or now() - chosen.observed_at > _INDEX_STALE:
        raise ProblemError(
            503,
            "no Fear & Greed value newer than 48 h",
            headers={"Retry-After": "60"},
            retry_after_s=60,
        )
    days = _WINDOWS.get(timeframe.upper(), 1)
    points = await index_daily(runtime.db, chosen.name, now() - timedelta(days=days))
    band, mood = _band(chosen.value)
    return SentimentOut(
        fear_greed_index=chosen.value,
        fear_greed_label=chosen.classification,
        classification=chosen.classification,
        sentiment=band,
        market_mood=mood,
        confidence=None,
        history=[
            HistoryPoint(timestamp=_ms(p.day), sentiment=p.value, volume=None) for p in points
        ],
        timestamp=iso_z(chosen.observed_at),
        source=chosen.source,
        age_s=age_s(chosen.observed_at) or 0.0,
    )


def _fear_greed(indexes: list[Any]) -> Any:
    """The Fear & Greed index among the published ones (the only one there is, else by name)."""
    for index in indexes:
        name = index.name.replace("-", "_")
        if "fear" in name or name in ("fng", "fgi"):
            return index
    return indexes[0] if len(indexes) == 1 else None


class AssetSentimentOld(msgspec.Struct, frozen=True, kw_only=True):
    success: bool
    symbol: str
    sentiment: str
    sentiment_value: int
    color: str
    social_score: float | None
    news_score: float
    sources: dict[str, int | None]
    window: str
    timestamp: str


_COLORS: Final = {"bullish": "#22c55e", "neutral": "#94a3b8", "bearish": "#ef4444"}


@get(
    "/sentiment/asset/{symbol:str}",
    summary="Asset sentiment (old hub)",
    responses=problem_responses(404, 422, 503),
)
async def sentiment_asset(
    runtime: NamedDependency[Runtime],
    symbol: Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")],
) -> AssetSentimentOld:
    """News sentiment of an asset over the last day (or hour): 0 to 100, 50 neutral."""
    rows = await asset_sentiment(runtime.db, symbol.lower())
    if not rows:
        raise ProblemError(404, f"no sentiment of {symbol.upper()!r} has been computed")
    row = next((r for r in rows if r.window == "24h"), rows[0])
    return AssetSentimentOld(
        success=True,
        symbol=symbol.upper(),
        sentiment=row.label,
        sentiment_value=round((row.score + 1) * 50),
        color=_COLORS.get(row.label, "#94a3b8"),
        social_score=None,
        news_score=row.score,
        sources={"twitter": None, "reddit": None, "news": row.article_count},
        window=row.window,
        timestamp=iso_z(row.observed_at),
    )


# --- /api/status and /api/providers


class StatusOld(msgspec.Struct, frozen=True, kw_only=True):
    health: str
    system_health: str
    online: int
    offline: int
    degraded: int
    total_providers: int
    total_apis: int
    avg_response_time: int | None
    avg_response_time_ms: float | None
    last_update: str
    timestamp: str


def _health(records: list[ProviderStateRecord]) -> str:
    online = sum(r.state == "online" for r in records) / len(records)
    return "healthy" if online >= 0.9 else "degraded" if online >= 0.7 else "unhealthy"


@get(
    "/status",
    summary="Provider health summary (old hub)",
    responses=problem_responses(422, 503),
    sync_to_thread=False,
)
def status(runtime: NamedDependency[Runtime]) -> StatusOld:
    """Counts of providers by state, from the health service (`half_open` counts as degraded)."""
    records = provider_records(runtime)
    if not records:
        raise ProblemError(
            503, "no provider health is known yet", headers={"Retry-After": "30"}, retry_after_s=30
        )
    latencies = [r.p50_ms for r in records if r.p50_ms is not None]
    avg = sum(latencies) / len(latencies) if latencies else None
    health = _health(records)
    return StatusOld(
        health=health,
        system_health=health,
        online=sum(r.state == "online" for r in records),
        offline=sum(r.state == "offline" for r in records),
        degraded=sum(r.state in ("degraded", "half_open") for r in records),
        total_providers=len(records),
        total_apis=len(records),
        avg_response_time=None if avg is None else round(avg),
        avg_response_time_ms=None if avg is None else round(avg, 2),
        last_update=iso_z(max(r.since for r in records)),
        timestamp=iso_z(now()),
    )


class OldProvider(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    status: str
    type: str | None
    category: str | None
    response_time_ms: float | None
    last_error: str | None
    since: str


class ProvidersOld(msgspec.Struct, frozen=True, kw_only=True):
    providers: list[OldProvider]
    total: int
    online: int
    offline: int
    timestamp: str


@get(
    "/providers",
    summary="Providers (old hub)",
    responses=problem_responses(422),
    sync_to_thread=False,
)
def providers(
    runtime: NamedDependency[Runtime],
    status: Annotated[
        Literal["online", "degraded", "offline", "half_open"] | None,
        QueryParameter(required=False),
    ] = None,
    search: Annotated[str | None, QueryParameter(max_length=64, required=False)] = None,
) -> ProvidersOld:
    """Every provider health tracks, with its real state."""
    records = provider_records(runtime)
    if status:
        records = [r for r in records if r.state == status]
    if search:
        records = [r for r in records if search.lower() in r.provider]
    items = [
        OldProvider(
            id=r.provider,
            name=r.provider,
            status=r.state,
            type=None,
            category=None,
            response_time_ms=r.p50_ms,
            last_error=r.last_error,
            since=iso_z(r.since),
        )
        for r in records
    ]
    return ProvidersOld(
        providers=items,
        total=len(items),
        online=sum(r.state == "online" for r in records),
        offline=sum(r.state == "offline" for r in records),
        timestamp=iso_z(now()),
    )


def _unprocessable(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """The old hub answered bad parameters with 422; so do its routes here."""
    return validation_response(exc, 422)


def legacy_router(guards: list[Guard]) -> Router:
    return Router(
        path="/api",
        route_handlers=[
            market,
            market_ohlc,
            news,
            sentiment_global,
            sentiment_asset,
            status,
            providers,
        ],
        exception_handlers={ValidationException: _unprocessable},
        guards=guards,
        tags=["old hub"],
    )
