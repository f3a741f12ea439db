"""News articles with their latest sentiment, newest first, paged by keyset."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptohub.gateway.db import Database
from cryptohub.gateway.store.access import fetch

__all__ = ["ArticleRow", "articles"]


@dataclass(frozen=True, slots=True)
class ArticleRow:
    event_id: str
    article_id: str
    url: str
    title: str
    summary: str
    outlet: str | None
    language: str | None
    symbols: list[str]
    source: str
    observed_at: datetime
    sentiment_label: str | None
    sentiment_score: float | None
    sentiment_model: str | None


_ARTICLES: Final = """
SELECT a.event_id::text AS event_id, a.article_id, a.url, a.title, a.summary, a.outlet,
    a.language, a.symbols, a.source, a.observed_at,
    s.label AS sentiment_label, s.score AS sentiment_score, s.model AS sentiment_model
FROM articles a
LEFT JOIN LATERAL (
    SELECT label, score, model FROM article_sentiments
    WHERE article_id = a.article_id ORDER BY observed_at DESC LIMIT 1
) s ON true
WHERE ($1::text IS NULL OR a.symbols @> ARRAY[$1::text])
    AND ($2::text IS NULL OR a.source = $2 OR lower(a.outlet) = $2)
    AND ($3::timestamptz IS NULL OR a.observed_at >= $3)
    AND ($4::timestamptz IS NULL OR (a.observed_at, a.event_id) < ($4, $5::uuid))
    AND ($6::text IS NULL OR s.label = $6)
ORDER BY a.observed_at DESC, a.event_id DESC
LIMIT $7
"""


async def articles(
    db: Database | None,
    *,
    symbol: str | None,
    source: str | None,
    since: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
    label: str | None = None,
) -> list[ArticleRow]:
    """Newest first; `source` matches the provider or the outlet (lower case)."""
    at, event_id = after if after else (None, None)
    records = await fetch(db, _ARTICLES, symbol, source, since, at, event_id, label, limit)
    return [ArticleRow(**{**dict(r), "symbols": list(r["symbols"])}) for r in records]
