"""What the gateway runs besides HTTP: NATS, PostgreSQL, the live feed and state, persistence."""

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext

from cryptohub.common.bus.broker import RECONNECT_FOREVER, prepare_jetstream
from cryptohub.common.providers.states import KvProviderStates
from cryptohub.common.streams import STREAMS, ensure_kv
from cryptohub.gateway.db import CONNECTION_ERRORS, Database
from cryptohub.gateway.deadletter import DeadLetters
from cryptohub.gateway.errors import DatabaseUnavailableError
from cryptohub.gateway.feed import LiveFeed
from cryptohub.gateway.latest import LatestWriter, load_latest
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.persist import PersistConfig, StreamPersister
from cryptohub.gateway.retention import Retention
from cryptohub.gateway.settings import GatewaySettings

__all__ = ["Runtime"]

log = logging.getLogger(__name__)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Runtime:
    """Owns the connections and background work; `start()` in the app's lifespan, `stop()` after."""

    def __init__(self, settings: GatewaySettings, nats_client: Client) -> None:
        self.settings = settings
        self.nc = nats_client
        self.js: JetStreamContext = nats_client.jetstream()
        self.live = LiveState()
        self.feed = LiveFeed(nats_client)
        self.feed.add_listener(self.live.apply)
        dsn = settings.database_url.get_secret_value() if settings.database_url else None
        self.db: Database | None = (
            Database(
                dsn,
                min_size=min(settings.db_pool_min, settings.db_pool_max),
                max_size=settings.db_pool_max,
                connect_timeout=settings.db_connect_timeout_s,
                retry_max_s=settings.persist_retry_max_s,
            )
            if dsn
            else None
        )
        self.dead_letters = DeadLetters(self.js)
        self.persisters: list[StreamPersister] = []
        self.latest: LatestWriter | None = None
        self.provider_states: KvProviderStates | None = None
        self.started_at: datetime | None = None
        self.warmed = asyncio.Event()
        self._retention: Retention | None = None
        self._warm_task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        s = self.settings
        if not self.nc.is_connected:
            await self.nc.connect(
                servers=[s.nats_url],
                name=f"cryptohub-{s.service}",
                allow_reconnect=True,
                max_reconnect_attempts=RECONNECT_FOREVER,
                reconnect_time_wait=1,
                connect_timeout=5,
                disconnected_cb=self._on_disconnect,
                reconnected_cb=_on_reconnect,
                error_cb=_on_error,
            )
        await prepare_jetstream(self.nc)
        await self.dead_letters.prepare()
        await self.feed.start()
        self.provider_states = KvProviderStates(await ensure_kv(self.js))
        await self.provider_states.start()
        if self.db is None:
            log.error("no DATABASE_URL: nothing is persisted and history endpoints answer 503")
            self.warmed.set()
        else:
            self.db.start()
            self._warm_task = asyncio.create_task(self._warm(self.db), name="warm-live-state")
            if s.persist:
                config = PersistConfig(
                    durable=s.persist_durable,
                    deliver_new=s.persist_from == "new",
                    batch_size=s.persist_batch_size,
                    batch_wait_s=s.persist_batch_wait_s,
                    ack_wait_s=s.persist_ack_wait_s,
                    max_ack_pending=s.persist_max_ack_pending,
                    retry_max_s=s.persist_retry_max_s,
                )
                self.latest = LatestWriter(self.db, interval_s=s.latest_interval_s)
                self.latest.start()
                for spec in STREAMS:
                    persister = StreamPersister(
                        self.nc, self.db, spec, self.dead_letters, self.latest, config
                    )
                    await persister.start()
                    self.persisters.append(persister)
            if s.replay:
                # Recorded bodies are dated when they were recorded, often years ago: a
                # retention pass would delete what was just replayed.
                log.info("replay mode: retention is off")
            else:
                self._retention = Retention(self.db, s.retention, s.retention_interval_s)
                self._retention.start()
        self.started_at = datetime.now(UTC)
        log.info("gateway runtime started (persistence %s)", "on" if self.persisters else "off")

    async def stop(self) -> None:
        """Stop everything, in order. A step that fails is logged and the next ones still run:
        PostgreSQL and NATS are always closed."""
        self._stopping = True
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        if self._retention is not None:
            steps.append(("retention", self._retention.stop))
        steps += [(f"persistence of {p.stream}", p.stop) for p in self.persisters]
        if self.latest is not None:
            steps.append(("latest events", self.latest.stop))
        if self._warm_task is not None:
            steps.append(("warm-up", functools.partial(_cancel, self._warm_task)))
        if self.provider_states is not None:
            steps.append(("provider states", self.provider_states.stop))
        steps.append(("live feed", self.feed.stop))
        if self.db is not None:
            steps.append(("PostgreSQL", self.db.stop))
        steps.append(("NATS", self._close_nats))
        for name, step in steps:
            try:
                await step()
            except Exception:
                log.exception("stopping %s failed; going on", name)
        self.persisters.clear()

    async def _close_nats(self) -> None:
        if self.nc.is_connected:
            try:
                async with asyncio.timeout(5):
                    await self.nc.drain()
            except (TimeoutError, OSError) as exc:
                log.warning("NATS drain at shutdown: %s", exc)
        if not self.nc.is_closed:
            await self.nc.close()

    async def _on_disconnect(self) -> None:
        if not self._stopping:
            log.warning("disconnected from NATS; reconnecting")

    async def _warm(self, db: Database) -> None:
        """Fill the live state from PostgreSQL once it is ready (newer live data is kept).

        The live feed begins at each stream's end, so what was stored before it reaches this
        replica only through `latest_events`, and only once a persister has committed it and a
        LatestWriter has saved it (every `latest_interval_s`). Warm again until the persistence
        consumers have acknowledged everything up to where the feed began, then once more after
        a save: nothing stored before the feed is missed (LiveState never moves backwards, so
        warming twice is harmless).
        """
        await db.ready.wait()
        count = await self._warm_once(db)
        self.warmed.set()
        log.info("live state warmed from PostgreSQL with %d events", count)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.warm_catch_up_s
        interval = self.settings.latest_interval_s
        while not await self._persisted_up_to_feed_start():
            if loop.time() > deadline:
                log.warning(
                    "events stored before the live feed began are still not persisted after "
                    "%.0fs; live state may lack some until they are next published",
                    self.settings.warm_catch_up_s,
                )
                return
            await asyncio.sleep(interval)
            await self._warm_once(db)
        await asyncio.sleep(2 * interval + 0.5)  # every replica's LatestWriter has saved since
        count = await self._warm_once(db)
        log.info("live state caught up with the events stored before the feed (%d)", count)

    async def _warm_once(self, db: Database) -> int:
        delay = 0.5
        while True:
            try:
                messages = await load_latest(db.pool, self._warm_since())
            except (*CONNECTION_ERRORS, DatabaseUnavailableError) as exc:
                log.warning("warming live state failed (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            return self.live.warm(messages)

    def _warm_since(self) -> datetime | timedelta:
        """How far back to warm: `warm_horizon`, or everything in replay mode, where every fact
        is dated when it was recorded (often years ago) and would fall outside any horizon."""
        return _EPOCH if self.settings.replay else self.settings.warm_horizon

    async def _persisted_up_to_feed_start(self) -> bool:
        """Whether the shared persistence consumers have acknowledged every event stored before
        this replica's live feed began (any replica's persister counts)."""
        for spec in STREAMS:
            start = self.feed.start_seq(spec.name)
            if start == 0:
                continue
            try:
                info = await self.js.consumer_info(spec.name, self.settings.persist_durable)
            except nats.js.errors.NotFoundError:
                return True  # nobody persists: nothing more will reach latest_events
            except (TimeoutError, nats.errors.Error) as exc:
                log.debug("persistence consumer of %s not readable: %s", spec.name, exc)
                return False
            acked_through = info.ack_floor.stream_seq if info.ack_floor else 0
            idle = not info.num_pending and not info.num_ack_pending
            if (acked_through or 0) < start and not idle:
                return False
        return True


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _on_reconnect() -> None:
    log.info("reconnected to NATS")


async def _on_error(exc: Exception) -> None:
    log.warning("NATS error: %s", exc)
