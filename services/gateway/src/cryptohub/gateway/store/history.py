"""Small history queries: an asset's sentiment windows, an index's daily values, status changes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptohub.gateway.db import Database
from cryptohub.gateway.store.access import fetch

__all__ = [
    "AssetSentimentRow",
    "IndexPoint",
    "StatusChangeRow",
    "asset_sentiment",
    "index_daily",
    "status_changes",
]


@dataclass(frozen=True, slots=True)
class AssetSentimentRow:
    window: str
    score: float
    label: str
    article_count: int
    confidence: float
    source: str
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class IndexPoint:
    day: datetime
    value: int
    classification: str


@dataclass(frozen=True, slots=True)
class StatusChangeRow:
    previous: str
    current: str
    reason: str
    observed_at: datetime


_ASSET: Final = """
SELECT DISTINCT ON ("window") "window", score, label, article_count, confidence, source,
    observed_at
FROM asset_sentiments WHERE symbol = $1
ORDER BY "window", observed_at DESC
"""

# The last value of each UTC day.
_DAILY: Final = """
SELECT DISTINCT ON (date_trunc('day', observed_at AT TIME ZONE 'UTC'))
    date_trunc('day', observed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
    value, classification
FROM sentiment_indexes WHERE name = $1 AND observed_at >= $2
ORDER BY date_trunc('day', observed_at AT TIME ZONE 'UTC'), observed_at DESC
"""

_CHANGES: Final = """
SELECT previous, "current", reason, observed_at FROM provider_status_changes
WHERE provider = $1 ORDER BY observed_at DESC LIMIT $2
"""


async def asset_sentiment(db: Database | None, symbol: str) -> list[AssetSentimentRow]:
    return [AssetSentimentRow(**dict(r)) for r in await fetch(db, _ASSET, symbol)]


async def index_daily(db: Database | None, name: str, since: datetime) -> list[IndexPoint]:
    return [IndexPoint(**dict(r)) for r in await fetch(db, _DAILY, name, since)]


async def status_changes(db: Database | None, provider: str, limit: int) -> list[StatusChangeRow]:
    return [StatusChangeRow(**dict(r)) for r in await fetch(db, _CHANGES, provider, limit)]
