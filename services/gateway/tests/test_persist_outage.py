"""PostgreSQL stopped for 10 s while events keep coming: nothing is lost, nothing is doubled."""

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from cryptohub.common.embedded import EmbeddedPostgres
from cryptohub.common.ids import message_id
from cryptohub.common.testing import private_tmp_dir
from cryptohub.gateway.testing.events import publish, sym, tick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(100)]

OUTAGE_S = 10.0


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL this module may stop and start (not the session's shared one)."""
    with private_tmp_dir("cryptohub-gw-outage-") as data_dir:
        server = EmbeddedPostgres(data_dir, durable=False, database="gateway")
        server.start()
        try:
            yield server
        finally:
            server.stop()


def failures_seen() -> float:
    return (
        REGISTRY.get_sample_value("cryptohub_gateway_persist_failures_total", {"stream": "MARKET"})
        or 0.0
    )


async def test_postgres_down_for_10s_under_load_loses_nothing(
    gateway: Any, js: JetStreamContext, own_postgres: EmbeddedPostgres
) -> None:
    symbol = sym()
    published: list[str] = []
    failures_before = failures_seen()

    async def keep_publishing(stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            batch = [tick(symbol, 1.0 + (n + i) / 1e4) for i in range(25)]
            await asyncio.gather(*(publish(js, e) for e in batch))
            published.extend(message_id(e) for e in batch)
            n += len(batch)
            await asyncio.sleep(0.05)

    async with gateway(database_url=own_postgres.dsn) as base:
        stop = asyncio.Event()
        publisher = asyncio.create_task(keep_publishing(stop))
        try:
            await asyncio.sleep(1.5)
            await asyncio.to_thread(own_postgres.stop)
            async with httpx.AsyncClient(base_url=base, timeout=5) as client:
                await asyncio.sleep(1.0)
                during = await client.get("/readyz")
                status_during = (await client.get("/api/v1/status")).json()
                await asyncio.sleep(OUTAGE_S - 1.0)
                await asyncio.to_thread(own_postgres.start)
                await asyncio.sleep(1.0)
        finally:
            # Whatever failed above, the publisher ends here: never left running past the test.
            stop.set()
            await publisher
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            conn = await asyncpg.connect(own_postgres.dsn, timeout=10)
            try:
                deadline = asyncio.get_running_loop().time() + 30
                while True:
                    stored = await conn.fetchval(
                        "SELECT count(*) FROM price_ticks WHERE event_id = ANY($1::uuid[])",
                        published,
                    )
                    if stored == len(published) or asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.2)
                total = await conn.fetchval(
                    "SELECT count(*) FROM price_ticks WHERE symbol = $1", symbol
                )
            finally:
                await conn.close()
            after = await client.get("/readyz")
            status_after = (await client.get("/api/v1/status")).json()

    assert during.status_code == 503
    assert "PostgreSQL" in " ".join(during.json()["problems"])
    assert after.status_code == 200, after.text
    assert (status_during["database_ready"], status_during["status"]) == (False, "degraded")
    assert status_during["database_error"]
    assert (status_after["database_ready"], status_after["database_error"]) == (True, None)
    assert failures_seen() > failures_before, "the outage was never noticed"
    assert len(published) > 1000
    assert stored == len(published), f"{len(published) - stored} of {len(published)} lost"
    assert total == len(published)
