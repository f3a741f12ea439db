"""`/api/v1/sentiment/...`: market sentiment indexes (live) and an asset's sentiment (history)."""

from datetime import datetime

import msgspec
from litestar import get
from litestar.di import NamedDependency

from cryptohub.common import subjects
from cryptohub.common.events import SentimentIndex
from cryptohub.gateway.api.freshness import age_s, check_max_age, now, oldest
from cryptohub.gateway.api.params import MaxAge, SymbolPath, symbol_of
from cryptohub.gateway.api.problems import ProblemError, problem_responses
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.history import asset_sentiment

__all__ = ["get_asset_sentiment", "latest_indexes", "list_indexes"]


class IndexOut(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    value: int
    classification: str
    source: str
    observed_at: datetime
    age_s: float


class IndexList(msgspec.Struct, frozen=True, kw_only=True):
    """The latest value of every index; `as_of`/`age_s`: the oldest among them."""

    data: list[IndexOut]
    count: int
    as_of: datetime | None
    age_s: float | None


def latest_indexes(live: LiveState) -> list[SentimentIndex]:
    """The newest value of each sentiment index, by name."""
    found = [
        m.event
        for m in live.matching(subjects.all_sentiment_indexes())
        if isinstance(m.event, SentimentIndex)
    ]
    return sorted(found, key=lambda i: i.name)


@get(
    "/sentiment/index",
    summary="Market sentiment indexes (Fear & Greed)",
    responses=problem_responses(503),
    sync_to_thread=False,
)
def list_indexes(runtime: NamedDependency[Runtime], max_age: MaxAge = None) -> IndexList:
    """Each published market sentiment index (0 = extreme fear, 100 = extreme greed)."""
    indexes = latest_indexes(runtime.live)
    as_of = oldest(i.observed_at for i in indexes)
    check_max_age(max_age, as_of, "the oldest sentiment index")
    at = now()
    return IndexList(
        data=[
            IndexOut(
                name=i.name,
                value=i.value,
                classification=i.classification,
                source=i.source,
                observed_at=i.observed_at,
                age_s=age_s(i.observed_at, at) or 0.0,
            )
            for i in indexes
        ],
        count=len(indexes),
        as_of=as_of,
        age_s=age_s(as_of, at),
    )


class WindowOut(msgspec.Struct, frozen=True, kw_only=True):
    window: str
    score: float
    label: str
    article_count: int
    confidence: float
    source: str
    observed_at: datetime
    age_s: float


class AssetSentimentOut(msgspec.Struct, frozen=True, kw_only=True):
    """An asset's news sentiment per window (score in [-1, 1]); `as_of`: the newest window."""

    symbol: str
    data: list[WindowOut]
    as_of: datetime
    age_s: float


@get(
    "/sentiment/assets/{symbol:str}",
    summary="News sentiment of an asset",
    responses=problem_responses(404, 503),
)
async def get_asset_sentiment(
    runtime: NamedDependency[Runtime], symbol: SymbolPath, max_age: MaxAge = None
) -> AssetSentimentOut:
    """Sentiment aggregated over the articles of the last hour and day. 404 when none."""
    sym = symbol_of(symbol)
    rows = await asset_sentiment(runtime.db, sym)
    if not rows:
        raise ProblemError(404, f"no sentiment of {sym!r} has been computed")
    newest = max(r.observed_at for r in rows)
    check_max_age(max_age, newest, f"the sentiment of {sym}")
    at = now()
    return AssetSentimentOut(
        symbol=sym,
        data=[
            WindowOut(
                window=r.window,
                score=r.score,
                label=r.label,
                article_count=r.article_count,
                confidence=r.confidence,
                source=r.source,
                observed_at=r.observed_at,
                age_s=age_s(r.observed_at, at) or 0.0,
            )
            for r in rows
        ],
        as_of=newest,
        age_s=age_s(newest, at) or 0.0,
    )
