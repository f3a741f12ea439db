"""Table `latest_events`: the newest event per (subject, source), kept up to date every few seconds
and read back at start to warm the live state.

Derived data, not the record: the event tables are. The persisters offer every committed row;
the newest per key is kept in memory (bounded by the number of subjects and sources) and
upserted every `interval_s`, so a batch of a thousand ticks costs no thousand row updates.
"""

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

import asyncpg
import msgspec

from cryptohub.common.events import decode
from cryptohub.gateway.db import CONNECTION_ERRORS, Database
from cryptohub.gateway.errors import DatabaseUnavailableError
from cryptohub.gateway.feed import FeedMessage

__all__ = ["LatestRow", "LatestWriter", "load_latest"]

log = logging.getLogger(__name__)

# (subject, source, stream, stream_seq, published_ns, observed_at, payload)
LatestRow = tuple[str, str, str, int, int, datetime, str]

_UPSERT: Final = """
INSERT INTO latest_events
    (subject, source, stream, stream_seq, published_at, observed_at, payload)
SELECT u.subject, u.source, u.stream, u.seq, to_timestamp(u.published_ns / 1e9), u.observed_at,
    u.payload
FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::timestamptz[],
            $7::json[]) AS u(subject, source, stream, seq, published_ns, observed_at, payload)
ON CONFLICT (subject, source) DO UPDATE SET
    stream = excluded.stream,
    stream_seq = excluded.stream_seq,
    published_at = excluded.published_at,
    observed_at = excluded.observed_at,
    payload = excluded.payload
WHERE (latest_events.observed_at, latest_events.published_at)
    <= (excluded.observed_at, excluded.published_at)
"""

_LOAD: Final = """
SELECT subject, stream, stream_seq, published_at, payload::text AS payload
FROM latest_events WHERE observed_at >= $1
"""


# What a flush may meet while PostgreSQL is away or restarting; the rows stay pending.
_FLUSH_ERRORS: Final = (*CONNECTION_ERRORS, DatabaseUnavailableError, asyncpg.PostgresError)


def _newer(row: LatestRow, than: LatestRow) -> bool:
    return (row[5], row[4]) >= (than[5], than[4])


class LatestWriter:
    """Collects the newest committed row per (subject, source) and upserts them periodically."""

    def __init__(self, db: Database, *, interval_s: float = 2.0) -> None:
        self._db = db
        self._interval_s = interval_s
        self._pending: dict[tuple[str, str], LatestRow] = {}
        self._task: asyncio.Task[None] | None = None

    def offer(self, rows: Iterable[LatestRow]) -> None:
        pending = self._pending
        for row in rows:
            key = (row[0], row[1])
            held = pending.get(key)
            if held is None or _newer(row, held):
                pending[key] = row

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="latest-writer")

    async def stop(self) -> None:
        """Stop the timer and flush once; a failed flush is logged, not raised: shutdown goes on."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            async with asyncio.timeout(5):
                await self.flush()
        except (TimeoutError, *_FLUSH_ERRORS) as exc:
            log.warning("latest events not written at shutdown: %s", type(exc).__name__)

    async def flush(self) -> None:
        """Upsert what is pending; on failure it stays pending for the next flush."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        # Sorted: concurrent replicas lock the rows in the same order and cannot deadlock.
        ordered = [batch[key] for key in sorted(batch)]
        columns: list[list[Any]] = [list(c) for c in zip(*ordered, strict=True)]
        try:
            async with self._db.pool.acquire() as conn, conn.transaction():
                await conn.execute(_UPSERT, *columns)
        except BaseException:
            self.offer(batch.values())  # keep them (newer ones offered meanwhile win)
            raise

    async def _run(self) -> None:
        await self._db.ready.wait()
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.flush()
            except _FLUSH_ERRORS as exc:
                log.warning("latest events not written (%s); retrying", type(exc).__name__)


async def load_latest(pool: asyncpg.Pool, since: datetime | timedelta) -> list[FeedMessage]:
    """The stored newest messages observed since `since` (a time, or an age)."""
    if isinstance(since, timedelta):
        since = await pool.fetchval("SELECT now()") - since
    found: list[FeedMessage] = []
    for record in await pool.fetch(_LOAD, since):
        raw = record["payload"].encode()
        try:
            event = decode(raw)
        except (msgspec.DecodeError, ValueError) as exc:
            log.warning("skipping unreadable latest event of %s: %s", record["subject"], exc)
            continue
        found.append(
            FeedMessage(
                subject=record["subject"],
                event=event,
                raw=raw,
                stream=record["stream"],
                seq=record["stream_seq"],
                published_at=record["published_at"],
            )
        )
    return found
