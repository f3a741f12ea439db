"""Failure drills on the whole system under load: NATS killed for 10 s, PostgreSQL stopped for
10 s, a service process killed. `cryptohub up --replay` supervises every service as usual; NATS
and PostgreSQL are this module's own embedded servers (NATS_URL / DATABASE_URL), so a drill can
take them away and bring them back on the same port with the same data.

What must hold: services reconnect by themselves, the gateway keeps serving from memory, nothing
is buffered without bound, and every event JetStream acknowledged is in PostgreSQL exactly once.
"""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
import psutil
import pytest
from nats.aio.client import Client as NatsClient

from cryptohub.common import subjects
from cryptohub.common.events import ProviderAttempt, encode
from cryptohub.common.ids import message_id

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

EXTERNAL_INFRA = True
SYSTEM_ENV = {
    "CRYPTOHUB_CONSENSUS_MAX_SPREAD_PCT": "100",  # the recordings come from different years
    # The gateway's persistence holds at most this many unacknowledged events; the rest waits
    # in JetStream (the default is 20,000: a 10 s outage at this load would never reach it).
    "CRYPTOHUB_PERSIST_MAX_ACK_PENDING": "300",
    "CRYPTOHUB_PERSIST_BATCH_SIZE": "100",
    # What a killed gateway held unacknowledged is redelivered after this (default 30 s).
    "CRYPTOHUB_PERSIST_ACK_WAIT_S": "5",
}
OUTAGE_S = 10.0
LOAD_PER_S = 100
LOAD_PROVIDER = "drill-load"
SERVICE_CONNECTIONS = {
    f"cryptohub-{name}"
    for name in ("collector-market", "collector-news", "gateway", "health", "sentiment")
}


class Load:
    """Publishes provider-attempt events at a steady rate through its own NATS connection (which
    reconnects by itself) and keeps the id of every one JetStream acknowledged."""

    def __init__(self, nats_url: str, per_second: int = LOAD_PER_S) -> None:
        self._url = nats_url
        self._period = 1.0 / per_second
        self.acked: set[str] = set()
        self.refused = 0
        self._sent = 0
        self._task: asyncio.Task[None] | None = None
        self._nc: NatsClient | None = None
        self._stop = asyncio.Event()

    async def __aenter__(self) -> "Load":
        self._nc = await nats.connect(
            self._url,
            connect_timeout=5,
            reconnect_time_wait=0.2,
            max_reconnect_attempts=-1,
            name="cryptohub-drill-load",
        )
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        assert self._nc is not None
        self._stop.set()  # not a cancel: nats-py may turn a cancelled publish into a timeout
        async with asyncio.timeout(10):
            await self._task
            await self._nc.close()

    async def _run(self) -> None:
        assert self._nc is not None
        js = self._nc.jetstream()
        base = datetime.now(UTC)
        while not self._stop.is_set():
            started = time.monotonic()
            self._sent += 1
            at = base + timedelta(microseconds=self._sent)
            event = ProviderAttempt(
                source=LOAD_PROVIDER,
                provider=LOAD_PROVIDER,
                endpoint="drill",
                ok=True,
                status=200,
                latency_ms=1.0,
                observed_at=at,
                received_at=at,
            )
            msg_id = message_id(event)
            try:
                await js.publish(
                    subjects.provider_attempt(LOAD_PROVIDER),
                    encode(event),
                    timeout=1.0,
                    headers={"Nats-Msg-Id": msg_id},
                )
            except Exception:  # noqa: BLE001 - NATS away: not acknowledged, so not counted
                self.refused += 1
            else:
                self.acked.add(msg_id)
            await asyncio.sleep(max(0.0, self._period - (time.monotonic() - started)))


@pytest.fixture
async def load(system) -> AsyncIterator[Load]:
    async with Load(system.nats_url) as running:
        yield running


async def btc_consensus_after(system, moment: datetime) -> Any:
    """The BTC consensus, once one observed after `moment` is served."""
    consensus = (await system.get("/api/v1/prices/btc"))["consensus"]
    if consensus and system.parse_time(consensus["observed_at"]) > moment:
        return consensus
    return None


async def connection_names(system) -> set[str]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{system.nats.monitor_url}/connz", params={"limit": 1024})
    return {c.get("name", "") for c in response.json()["connections"]}


async def assert_persisted_exactly_once(system, nc, load: Load, since: datetime) -> None:
    """Every event acknowledged by JetStream, and every recent event the streams hold, is a row
    in PostgreSQL, and none is there twice."""
    acked = {system.as_event_id(i) for i in load.acked}  # before reading: the load goes on
    in_streams = await system.stream_ids(nc, since)
    held = {system.as_event_id(i) for ids in in_streams.values() for i in ids}
    assert acked <= held, f"{len(acked - held)} acknowledged events are not in JetStream"
    db = await system.database()
    try:

        async def caught_up() -> list[str] | None:
            rows = await system.table_ids(db, since)
            return rows if held <= set(rows) else None

        rows = await system.until(caught_up, 40, "every event of the streams in PostgreSQL")
    finally:
        await db.close()
    assert len(rows) == len(set(rows)), "an event stored twice"


async def test_nats_killed_for_10s_under_load_services_reconnect_and_nothing_acked_is_lost(
    system, nc, load
) -> None:
    since = system.recent()
    await system.until(lambda: btc_consensus_after(system, since), 30, "a BTC consensus")
    assert await connection_names(system) >= SERVICE_CONNECTIONS
    await asyncio.sleep(2)
    acked_before = len(load.acked)
    assert acked_before > 50, "the load runs"

    system.nats.kill()
    killed_at = time.monotonic()
    try:
        await system.until(
            lambda: _status_if(system, nats_connected=False), 10, "the gateway sees NATS gone"
        )
        served = await system.get("/api/v1/prices/btc")  # from memory, while NATS is away
        assert served["consensus"] is not None
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - killed_at)))
        acked_during = len(load.acked)
    finally:
        system.nats.start()  # same port, same data
    back = datetime.now(UTC)

    async def every_service_back() -> bool:
        return await connection_names(system) >= SERVICE_CONNECTIONS

    await system.until(every_service_back, 30, "every service reconnected to NATS")
    await system.until(lambda: _status_if(system, nats_connected=True), 20, "gateway reconnected")
    await system.until(lambda: btc_consensus_after(system, back), 30, "new prices after NATS")
    await system.until(lambda: _more(load, acked_during + 100), 20, "the load acknowledged again")
    assert load.refused > 0, "publishes failed while NATS was away"
    await assert_persisted_exactly_once(system, nc, load, since)


async def test_postgresql_stopped_for_10s_gateway_serves_from_memory_and_persists_after(
    system, nc, load
) -> None:
    since = system.recent()
    gateway = psutil.Process(system.service("gateway")["pid"])
    rss_before = gateway.memory_info().rss
    await asyncio.sleep(1)

    system.postgres.stop()
    stopped_at = time.monotonic()
    try:
        # Still serving from memory, live: prices observed after the database went away.
        gone = datetime.now(UTC)
        fresh = await system.until(lambda: btc_consensus_after(system, gone), 15, "live prices")
        assert fresh["contributors"]
        async with httpx.AsyncClient(base_url=system.url, timeout=10) as client:
            history = await client.get("/api/v1/ohlcv/btc", params={"interval": "1m"})
        assert history.status_code == 503, "history needs the database: a clear 503, not a 500"
        await system.until(
            lambda: _backlog_if_waiting(nc, "PROVIDER"), 15, "a backlog waiting in JetStream"
        )
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
        backlog = await _consumer(nc, "PROVIDER")
        grown = gateway.memory_info().rss - rss_before
    finally:
        system.postgres.start()
    # Bounded: what the gateway holds unacknowledged is capped; the rest waits in JetStream.
    assert backlog.num_ack_pending <= int(SYSTEM_ENV["CRYPTOHUB_PERSIST_MAX_ACK_PENDING"])
    assert backlog.num_pending > 0
    assert grown < 64 * 2**20, f"the gateway grew by {grown / 2**20:.0f} MiB"
    await assert_persisted_exactly_once(system, nc, load, since)


async def test_status_says_when_postgresql_is_unavailable(system) -> None:
    system.postgres.stop()
    try:
        down = await system.until(
            lambda: _status_if(system, database_ready=False), 5, "status: database unavailable"
        )
        assert down["status"] == "degraded"
        assert down["database_error"], "status gives no reason for the database being unready"
    finally:
        system.postgres.start()
    up = await system.until(
        lambda: _status_if(system, database_ready=True), 30, "status: database back"
    )
    assert up["database_error"] is None


@pytest.mark.parametrize("service", ["gateway", "health"])
async def test_a_killed_service_is_restarted_and_its_stream_catches_up(
    system, nc, load, service: str
) -> None:
    since = system.recent()
    before = system.service(service)
    os.kill(before["pid"], signal.SIGKILL)

    async def restarted() -> dict[str, Any] | None:
        now = system.service(service)
        if now["pid"] and now["pid"] != before["pid"] and now["restarts"] == before["restarts"] + 1:
            return now
        return None

    await system.until(restarted, 30, f"{service} restarted by the supervisor")
    await system.until(lambda: system.get("/api/v1/status"), 30, "the gateway answering")
    durable = "gateway-persist" if service == "gateway" else "health"

    async def caught_up() -> bool:
        consumer = await _consumer(nc, "PROVIDER", durable)
        return consumer.num_pending == 0 and consumer.num_ack_pending < LOAD_PER_S

    await system.until(caught_up, 40, f"{service}'s consumer caught up with the stream")
    if service == "gateway":
        await assert_persisted_exactly_once(system, nc, load, since)
    else:
        record = await system.until(
            lambda: system.get(f"/api/v1/providers/{LOAD_PROVIDER}"), 20, "health judging"
        )
        assert record["data"]["state"] == "online"


async def test_ctrl_c_stops_every_service_and_leaves_nothing_running(system) -> None:
    assert system.interrupt() == 0, system.log_tail()
    assert system.leftovers() == []
    # NATS and PostgreSQL were given to it (NATS_URL, DATABASE_URL): not its to stop.
    assert system.nats.running
    assert system.postgres.running


async def _status_if(system, **wanted: bool) -> dict[str, Any] | None:
    status = await system.get("/api/v1/status")
    return status if all(status[k] == v for k, v in wanted.items()) else None


async def _more(load: Load, count: int) -> bool:
    return len(load.acked) >= count


async def _consumer(nc: NatsClient, stream: str, durable: str = "gateway-persist") -> Any:
    return await nc.jetstream().consumer_info(stream, durable)


async def _backlog_if_waiting(nc: NatsClient, stream: str) -> Any:
    info = await _consumer(nc, stream)
    return info if info.num_pending > 0 else None
