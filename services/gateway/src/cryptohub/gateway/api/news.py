"""`/api/v1/news`: articles, newest first, with the latest sentiment a model gave each."""

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from cryptohub.gateway.api.cursor import decode_cursor, encode_cursor
from cryptohub.gateway.api.freshness import age_s, check_max_age
from cryptohub.gateway.api.params import Cursor, Limit, MaxAge, TimeQuery, aware
from cryptohub.gateway.api.problems import problem_responses
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.news import ArticleRow, articles

__all__ = ["ArticleOut", "article_out", "list_news"]


class SentimentOut(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    score: float
    model: str | None


class ArticleOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    title: str
    summary: str
    outlet: str | None
    language: str | None
    symbols: list[str]
    source: str
    published_at: datetime
    sentiment: SentimentOut | None


class ArticleList(msgspec.Struct, frozen=True, kw_only=True):
    """Newest first; `as_of`/`age_s`: the newest article's publication."""

    data: list[ArticleOut]
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


def article_out(r: ArticleRow) -> ArticleOut:
    return ArticleOut(
        id=r.article_id,
        url=r.url,
        title=r.title,
        summary=r.summary,
        outlet=r.outlet,
        language=r.language,
        symbols=r.symbols,
        source=r.source,
        published_at=r.observed_at,
        sentiment=(
            SentimentOut(label=r.sentiment_label, score=r.sentiment_score, model=r.sentiment_model)
            if r.sentiment_label is not None and r.sentiment_score is not None
            else None
        ),
    )


SymbolFilter = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
        required=False,
        description="Only articles about this ticker.",
    ),
]
SourceFilter = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$",
        required=False,
        description="Only this provider (e.g. `cryptopanic`) or outlet (e.g. `coindesk`).",
    ),
]


@get("/news", summary="News articles", responses=problem_responses(503))
async def list_news(
    runtime: NamedDependency[Runtime],
    symbol: SymbolFilter = None,
    source: SourceFilter = None,
    since: TimeQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    max_age: MaxAge = None,
) -> ArticleList:
    """Articles filtered by ticker, source and publication time; `sentiment` is null until a
    model has scored the article."""
    after = decode_cursor("news", cursor, (datetime, uuid.UUID)) if cursor else None
    rows = await articles(
        runtime.db,
        symbol=symbol.lower() if symbol else None,
        source=source.lower() if source else None,
        since=aware(since),
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    as_of = max((r.observed_at for r in page), default=None)
    check_max_age(max_age, as_of, "the newest article")
    last = page[-1] if page else None
    return ArticleList(
        data=[article_out(r) for r in page],
        count=len(page),
        as_of=as_of,
        age_s=age_s(as_of),
        next_cursor=(
            encode_cursor("news", last.observed_at, last.event_id)
            if last and len(rows) > limit
            else None
        ),
    )
