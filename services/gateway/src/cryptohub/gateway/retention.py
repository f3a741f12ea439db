"""Deletes rows older than each table's retention, in small chunks, on a timer."""

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from cryptohub.gateway.db import CONNECTION_ERRORS, Database
from cryptohub.gateway.errors import DatabaseUnavailableError
from cryptohub.gateway.tables import TABLES

__all__ = ["Retention", "purge_expired"]

log = logging.getLogger(__name__)

_CHUNK: Final = 10_000
_KNOWN: Final = frozenset(table.name for table in TABLES)


async def purge_expired(db: Database, retention: Mapping[str, timedelta]) -> dict[str, int]:
    """Delete every row older than its table's retention; the rows deleted per table."""
    deleted: dict[str, int] = {}
    for table, keep in retention.items():
        if table not in _KNOWN:  # settings validate names; this guards the f-string below
            raise ValueError(f"unknown table {table!r}")
        total = 0
        while True:
            status = await db.pool.execute(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("  # noqa: S608 - a known name
                f"SELECT ctid FROM {table} WHERE observed_at < now() - $1::interval "
                f"LIMIT {_CHUNK}))",
                keep,
            )
            count = int(status.rsplit(" ", 1)[-1])
            total += count
            if count < _CHUNK:
                break
        deleted[table] = total
    return deleted


class Retention:
    """Runs purge_expired every `interval_s` once the database is ready."""

    def __init__(self, db: Database, retention: Mapping[str, timedelta], interval_s: float) -> None:
        self._db = db
        self._retention = dict(retention)
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        await self._db.ready.wait()
        while True:
            try:
                deleted = await purge_expired(self._db, self._retention)
            except (*CONNECTION_ERRORS, DatabaseUnavailableError) as exc:
                log.warning("retention pass skipped: PostgreSQL unavailable (%s)", exc)
            else:
                if any(deleted.values()):
                    log.info("retention deleted %s", {k: v for k, v in deleted.items() if v})
            await asyncio.sleep(self._interval_s)
