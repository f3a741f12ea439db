"""Running a read query: bounded in time, and any connection trouble surfaced as unavailability."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import asyncpg

from cryptohub.gateway.db import CONNECTION_ERRORS, Conn, Database
from cryptohub.gateway.errors import DatabaseUnavailableError

__all__ = ["QUERY_TIMEOUT_S", "connection", "fetch", "fetchrow"]

QUERY_TIMEOUT_S: Final = 5.0


@asynccontextmanager
async def connection(db: Database | None) -> AsyncIterator[Conn]:
    if db is None:
        raise DatabaseUnavailableError("no DATABASE_URL configured")
    try:
        async with db.pool.acquire(timeout=QUERY_TIMEOUT_S) as conn:
            yield conn
    except (asyncpg.QueryCanceledError, *CONNECTION_ERRORS) as exc:
        raise DatabaseUnavailableError(type(exc).__name__) from exc


async def fetch(db: Database | None, sql: str, *args: Any) -> list[asyncpg.Record]:
    async with connection(db) as conn:
        return await conn.fetch(sql, *args, timeout=QUERY_TIMEOUT_S)


async def fetchrow(db: Database | None, sql: str, *args: Any) -> asyncpg.Record | None:
    async with connection(db) as conn:
        return await conn.fetchrow(sql, *args, timeout=QUERY_TIMEOUT_S)
