"""The asyncpg pool, opened in the background: the gateway starts even while PostgreSQL is down."""

import asyncio
import logging
from typing import Final

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from cryptohub.gateway.errors import DatabaseUnavailableError
from cryptohub.gateway.migrate import migrate

__all__ = ["CONNECTION_ERRORS", "Conn", "Database"]

# A connection, or the pool's proxy of one.
Conn = asyncpg.Connection | PoolConnectionProxy

log = logging.getLogger(__name__)

# What a lost or unreachable server raises: worth a retry, never a data problem.
CONNECTION_ERRORS: Final = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InsufficientResourcesError,
    # The server ended the session inside a transaction (a restart): "cannot switch to state
    # 15; another operation is in progress" (MagicStack/asyncpg#784). Nothing was committed.
    asyncpg.InternalClientError,
)


class Database:
    """Opens the pool and applies the migrations, retrying with backoff until both succeed.

    `pool` raises DatabaseUnavailableError until then; `ready` is set once the schema is current.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        connect_timeout: float = 5.0,
        retry_max_s: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout = connect_timeout
        self._retry_max_s = retry_max_s
        self._pool: asyncpg.Pool | None = None
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.last_error: str | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise DatabaseUnavailableError(self.last_error or "not connected yet")
        return self._pool

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._open(), name="db-open")

    async def wait_ready(self, within: float | None = None) -> None:
        async with asyncio.timeout(within):
            await self.ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                async with asyncio.timeout(10):
                    await pool.close()
            # A connection the server ended (a restart) may fail its graceful close in any of
            # asyncpg's ways; shutdown must go on, so the pool is terminated instead.
            except (TimeoutError, *CONNECTION_ERRORS) as exc:
                log.warning("closing the PostgreSQL pool: %s; terminating it", type(exc).__name__)
                pool.terminate()

    async def ping(self, within: float = 2.0) -> bool:
        """Whether PostgreSQL answers a query now.

        A pool with every connection busy (persistence under load) is not an outage: when no
        connection frees up within `within`, the answer is yes (they are busy talking to it);
        a lost server shows as errors on acquire or on the query, and the answer is no.
        """
        if self._pool is None:
            return False
        try:
            async with asyncio.timeout(within):
                conn = await self._pool.acquire()
        except TimeoutError:
            return True
        except CONNECTION_ERRORS as exc:
            self.last_error = type(exc).__name__
            return False
        try:
            async with asyncio.timeout(within):
                await conn.fetchval("SELECT 1")
        except (TimeoutError, *CONNECTION_ERRORS) as exc:
            self.last_error = type(exc).__name__
            return False
        finally:
            await self._pool.release(conn)
        self.last_error = None
        return True

    async def _open(self) -> None:
        delay = 0.2
        while True:
            try:
                pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    timeout=self._connect_timeout,
                    command_timeout=60,
                )
                try:
                    applied = await migrate(pool)
                except BaseException:
                    await pool.close()
                    raise
            except CONNECTION_ERRORS as exc:
                self.last_error = f"{type(exc).__name__}: cannot reach PostgreSQL"
                log.warning("PostgreSQL not reachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)
                continue
            self._pool = pool
            self.last_error = None
            self.ready.set()
            log.info("PostgreSQL ready; %d migrations applied", len(applied))
            return
