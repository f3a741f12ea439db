"""Candles of one asset and interval over a time range, one per open time (final ones first)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptohub.gateway.db import Database
from cryptohub.gateway.store.access import fetch

__all__ = ["CandleRow", "candles"]


@dataclass(frozen=True, slots=True)
class CandleRow:
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    is_final: bool
    source: str
    observed_at: datetime


# One candle per open time: a final one over a provisional one, then the newest observation.
_FORWARD: Final = """
SELECT DISTINCT ON (open_time)
    open_time, open, high, low, close, volume, is_final, source, observed_at
FROM candles
WHERE symbol = $1 AND "interval" = $2 AND open_time >= $3 AND open_time < $4
    AND ($5::text IS NULL OR source = $5)
ORDER BY open_time, is_final DESC, observed_at DESC
LIMIT $6
"""
_LATEST: Final = """
SELECT * FROM (
    SELECT DISTINCT ON (open_time)
        open_time, open, high, low, close, volume, is_final, source, observed_at
    FROM candles
    WHERE symbol = $1 AND "interval" = $2 AND open_time < $3
        AND ($4::text IS NULL OR source = $4)
    ORDER BY open_time DESC, is_final DESC, observed_at DESC
    LIMIT $5
) newest ORDER BY open_time
"""


async def candles(
    db: Database | None,
    *,
    symbol: str,
    interval: str,
    start: datetime | None,
    end: datetime,
    limit: int,
    source: str | None = None,
) -> list[CandleRow]:
    """From `start` forwards (up to `limit`), or without `start` the `limit` latest before `end`;
    always in ascending open time."""
    if start is not None:
        records = await fetch(db, _FORWARD, symbol, interval, start, end, source, limit)
    else:
        records = await fetch(db, _LATEST, symbol, interval, end, source, limit)
    return [CandleRow(**dict(r)) for r in records]
