"""Block heads and whale transfers, newest first, paged by keyset."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptohub.gateway.db import Database
from cryptohub.gateway.store.access import fetch

__all__ = ["BlockRow", "WhaleRow", "blocks", "whales"]


@dataclass(frozen=True, slots=True)
class BlockRow:
    number: int
    hash: str
    tx_count: int
    gas_used: int | None
    base_fee_gwei: float | None
    source: str
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class WhaleRow:
    event_id: str
    chain: str
    tx_hash: str
    from_address: str
    to_address: str
    symbol: str
    amount: float
    usd_value: float | None
    block_number: int | None
    source: str
    observed_at: datetime


# Several providers report the same block: one row per number, the first seen.
_BLOCKS: Final = """
SELECT DISTINCT ON (number)
    number, hash, tx_count, gas_used, base_fee_gwei, source, observed_at
FROM block_heads
WHERE chain = $1 AND ($2::int8 IS NULL OR number < $2)
ORDER BY number DESC, observed_at
LIMIT $3
"""

_WHALES: Final = """
SELECT event_id::text AS event_id, chain, tx_hash, from_address, to_address, symbol, amount,
    usd_value, block_number, source, observed_at
FROM whale_transfers
WHERE ($1::text IS NULL OR chain = $1)
    AND ($2::float8 IS NULL OR usd_value >= $2)
    AND ($3::timestamptz IS NULL OR observed_at >= $3)
    AND ($4::timestamptz IS NULL OR (observed_at, event_id) < ($4, $5::uuid))
ORDER BY observed_at DESC, event_id DESC
LIMIT $6
"""


async def blocks(
    db: Database | None, *, chain: str, before: int | None, limit: int
) -> list[BlockRow]:
    """Newest blocks of `chain` (below block `before` when paging)."""
    return [BlockRow(**dict(r)) for r in await fetch(db, _BLOCKS, chain, before, limit)]


async def whales(
    db: Database | None,
    *,
    chain: str | None,
    min_usd: float | None,
    since: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[WhaleRow]:
    """Newest transfers first, filtered; `after` is the (observed_at, event_id) of the last seen."""
    at, event_id = after if after else (None, None)
    records = await fetch(db, _WHALES, chain, min_usd, since, at, event_id, limit)
    return [WhaleRow(**dict(r)) for r in records]
