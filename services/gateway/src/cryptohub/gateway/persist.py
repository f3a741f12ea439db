"""JetStream → PostgreSQL: one durable pull consumer per stream, shared by every gateway replica.

A batch (up to `batch_size` messages, or what arrived within `batch_wait_s` of the first) is
decoded, grouped by table and written in one transaction with one multi-row insert per table,
idempotent on the event id. Messages are acked only after the commit. While PostgreSQL is
unreachable the batch is held (and kept in progress on the server) and retried with capped
backoff; nothing more is fetched, so memory stays bounded. A message that cannot be decoded, or
whose row PostgreSQL refuses, goes to the dead-letter subject and the stream moves on.
"""

import asyncio
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from cryptohub.common.events import decode
from cryptohub.common.ids import message_id
from cryptohub.common.streams import StreamSpec
from cryptohub.gateway import metrics
from cryptohub.gateway.db import CONNECTION_ERRORS, Conn, Database
from cryptohub.gateway.deadletter import DeadLetters
from cryptohub.gateway.errors import DatabaseUnavailableError
from cryptohub.gateway.latest import LatestRow, LatestWriter
from cryptohub.gateway.position import position_of
from cryptohub.gateway.pull import PullConsumer
from cryptohub.gateway.tables import TABLE_FOR, Table

__all__ = ["PersistConfig", "StreamPersister"]

log = logging.getLogger(__name__)

_EVENT_ID: Final = re.compile(r"[0-9a-f]{32}")
# Unreachable (a restart mid-transaction included: see CONNECTION_ERRORS), or a deadlock /
# serialization failure between replicas: retry the same batch; nothing was committed.
_RETRYABLE: Final = (*CONNECTION_ERRORS, DatabaseUnavailableError, asyncpg.TransactionRollbackError)
# A row PostgreSQL or asyncpg refuses for what it holds (not for the connection).
_DATA_ERRORS: Final = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, OverflowError)

_Entry = tuple[Msg, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class PersistConfig:
    durable: str = "gateway-persist"
    deliver_new: bool = False  # a newly created consumer starts at new events (else at the start)
    batch_size: int = 1000
    batch_wait_s: float = 0.05
    ack_wait_s: float = 30.0
    max_ack_pending: int = 20_000
    retry_max_s: float = 5.0


class StreamPersister:
    """Persists one stream; run one per stream in every replica (they share the consumer)."""

    def __init__(
        self,
        nc: Client,
        db: Database,
        spec: StreamSpec,
        dead_letters: DeadLetters,
        latest: LatestWriter,
        config: PersistConfig,
    ) -> None:
        self._nc = nc
        self._js: JetStreamContext = nc.jetstream()
        self._db = db
        self._spec = spec
        self._dead = dead_letters
        self._latest = latest
        self._config = config
        self._puller: PullConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.inserted = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.last_commit_at: datetime | None = None

    @property
    def stream(self) -> str:
        return self._spec.name

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        config = ConsumerConfig(
            durable_name=self._config.durable,
            description="Gateway persistence into PostgreSQL (shared by replicas).",
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW if self._config.deliver_new else DeliverPolicy.ALL,
            ack_wait=self._config.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=self._config.max_ack_pending,
        )
        try:
            await self._js.consumer_info(self._spec.name, self._config.durable)
        except nats.js.errors.NotFoundError:
            # Two replicas may race here: creating an identical consumer twice is accepted.
            await self._js.add_consumer(self._spec.name, config)
        self._puller = PullConsumer(self._nc, self._spec.name, self._config.durable)
        await self._puller.start()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"persist-{self._spec.name}")
        self._task.add_done_callback(self._on_done)

    async def stop(self) -> None:
        self._stopping = True  # ends the loop even if a library swallowed the cancel below
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._puller is not None:
            await self._puller.stop()
            self._puller = None

    def _on_done(self, task: asyncio.Task[None]) -> None:
        """A persister that stops on its own is a bug: say so (readiness reports it too)."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("persistence of %s stopped", self._spec.name, exc_info=exc)

    async def _run(self) -> None:
        """Fetch the next batch while the current one is written: at most two batches held."""
        await self._db.ready.wait()
        fetching = asyncio.create_task(self._collect())
        try:
            while not self._stopping:
                try:
                    msgs = await fetching
                except (nats.errors.Error, OSError) as exc:
                    log.warning("fetch from %s failed (%s); retrying", self._spec.name, exc)
                    await asyncio.sleep(1.0)
                    msgs = []
                fetching = asyncio.create_task(self._collect())
                if msgs:
                    await self._handle(msgs)
        finally:
            fetching.cancel()
            await asyncio.gather(fetching, return_exceptions=True)

    async def _collect(self) -> list[Msg]:
        """Up to batch_size messages, or what arrived within batch_wait_s."""
        if self._puller is None:
            raise nats.errors.ConnectionClosedError
        return await self._puller.next_batch(self._config.batch_size, self._config.batch_wait_s)

    async def _handle(self, msgs: list[Msg]) -> None:
        by_table: dict[Table, list[_Entry]] = defaultdict(list)
        refused: list[tuple[Msg, str]] = []
        newest_ns = 0
        for msg in msgs:
            try:
                _, seq, stored_ns = position_of(msg.reply)
                event = decode(msg.data)
            except msgspec.ValidationError as exc:
                refused.append((msg, f"invalid: {exc}"))
                continue
            except msgspec.DecodeError as exc:
                refused.append((msg, f"undecodable: {exc}"))
                continue
            except ValueError as exc:  # a check beyond msgspec's (e.g. a candle's high < low)
                refused.append((msg, f"invalid: {exc}"))
                continue
            table = TABLE_FOR[type(event)]
            header_id = (msg.headers or {}).get("Nats-Msg-Id", "")
            event_id = header_id if _EVENT_ID.fullmatch(header_id) else message_id(event)
            newest_ns = max(newest_ns, stored_ns)
            row = (
                event_id,
                msg.subject,
                seq,
                stored_ns,
                event.source,
                event.observed_at,
                event.received_at,
                msg.data.decode(),
                *table.values(event),
            )
            by_table[table].append((msg, row))
        refused += await self._write_retrying(msgs, by_table)
        parked = await self._park(refused)
        ok = [m for entries in by_table.values() for m, _ in entries]
        await _ack_all(ok + parked)
        if newest_ns:
            metrics.persist_lag_seconds.labels(self._spec.name).set(
                max(0.0, time.time() - newest_ns / 1e9)
            )

    async def _write_retrying(
        self, msgs: list[Msg], by_table: dict[Table, list[_Entry]]
    ) -> list[tuple[Msg, str]]:
        """Commit the batch, retrying while PostgreSQL is away; the rows it refused, by message."""
        if not by_table:
            return []
        delay = 0.1
        held_since = time.monotonic()
        while True:
            try:
                with metrics.persist_batch_seconds.time():
                    await self._write(by_table)
            except _RETRYABLE as exc:
                metrics.persist_failures.labels(self._spec.name).inc()
                log.warning(
                    "cannot write %d events of %s to PostgreSQL (%s); retrying in %.1fs",
                    len(msgs),
                    self._spec.name,
                    type(exc).__name__,
                    delay,
                )
                if time.monotonic() - held_since > self._config.ack_wait_s / 3:
                    await _keep_in_progress(msgs)
                    held_since = time.monotonic()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._config.retry_max_s)
            except (*_DATA_ERRORS, asyncpg.PostgresError) as exc:
                log.warning(
                    "PostgreSQL refused a batch of %s (%s); writing its rows one by one",
                    self._spec.name,
                    exc,
                )
                return await self._write_one_by_one(by_table)
            else:
                self.last_commit_at = datetime.now(UTC)
                return []

    async def _write(self, by_table: dict[Table, list[_Entry]]) -> None:
        async with self._db.pool.acquire() as conn, conn.transaction():
            counts = [
                (table, len(entries), await _insert(conn, table, [row for _, row in entries]))
                for table, entries in by_table.items()
            ]
        for table, total, inserted in counts:
            self._count(table, total, inserted)
        self._latest.offer(
            self._latest_row(row) for entries in by_table.values() for _, row in entries
        )

    async def _write_one_by_one(self, by_table: dict[Table, list[_Entry]]) -> list[tuple[Msg, str]]:
        """Isolate the rows PostgreSQL refuses; each other row is committed on its own."""
        refused: list[tuple[Msg, str]] = []
        for table, entries in by_table.items():
            kept: list[_Entry] = []
            for msg, row in entries:
                reason = await self._write_single(table, row)
                if reason is None:
                    kept.append((msg, row))
                else:
                    refused.append((msg, reason))
            entries[:] = kept
        return refused

    async def _write_single(self, table: Table, row: tuple[Any, ...]) -> str | None:
        delay = 0.1
        for candidate in (row, _without_nul(row)):
            while True:
                try:
                    async with self._db.pool.acquire() as conn, conn.transaction():
                        inserted = await _insert(conn, table, [candidate])
                except _RETRYABLE:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._config.retry_max_s)
                    continue
                except (*_DATA_ERRORS, asyncpg.PostgresError) as exc:
                    reason = f"refused by PostgreSQL: {type(exc).__name__}: {exc}"
                    break
                self._count(table, 1, inserted)
                self._latest.offer([self._latest_row(candidate)])
                return None
        return reason

    def _latest_row(self, row: tuple[Any, ...]) -> LatestRow:
        # row: event_id, subject, seq, published_at, source, observed_at, received_at, payload, …
        return (row[1], row[4], self._spec.name, row[2], row[3], row[5], row[7])

    def _count(self, table: Table, total: int, inserted: int) -> None:
        self.inserted += inserted
        self.duplicates += total - inserted
        metrics.persisted.labels(table.name, "inserted").inc(inserted)
        if total > inserted:
            metrics.persisted.labels(table.name, "duplicate").inc(total - inserted)

    async def _park(self, refused: list[tuple[Msg, str]]) -> list[Msg]:
        """Dead-letter what was refused; the messages parked (the others stay unacked)."""
        parked: list[Msg] = []
        for msg, reason in refused:
            try:
                await self._dead.park(msg, reason)
            except (nats.errors.Error, OSError) as exc:
                log.warning("cannot dead-letter a message of %s (%s)", self._spec.name, exc)
                continue
            parked.append(msg)
            self.dead_lettered += 1
        return parked


async def _insert(conn: Conn, table: Table, rows: list[tuple[Any, ...]]) -> int:
    """Insert `rows` (skipping stored ones); how many were new."""
    columns = [list(values) for values in zip(*rows, strict=True)]
    status = await conn.execute(table.insert_sql(), *columns)
    return int(status.rsplit(" ", 1)[-1])


def _without_nul(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL text cannot hold NUL: keep the fact, with U+FFFD in its place."""
    return tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in row)


async def _ack_all(msgs: list[Msg]) -> None:
    for msg in msgs:
        try:
            await msg.ack()
        except (nats.errors.Error, OSError) as exc:
            # Redelivered later and skipped as a duplicate: harmless.
            log.debug("ack failed: %s", exc)


async def _keep_in_progress(msgs: list[Msg]) -> None:
    for msg in msgs:
        try:
            await msg.in_progress()
        except (nats.errors.Error, OSError) as exc:
            log.debug("in_progress failed: %s", exc)
