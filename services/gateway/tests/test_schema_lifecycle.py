"""Migrations applied once (also by replicas racing), retention, warming live state at start."""

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext

from cryptohub.common.ids import message_id
from cryptohub.gateway.db import Database
from cryptohub.gateway.errors import MigrationError
from cryptohub.gateway.migrate import migrate, migrations
from cryptohub.gateway.retention import purge_expired
from cryptohub.gateway.testing.events import publish, sym, tick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_migrations_apply_once_even_when_replicas_race(gateway_dsn: str) -> None:
    pools = [await asyncpg.create_pool(gateway_dsn, min_size=1, max_size=2) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(pool) for pool in pools))
        again = await migrate(pools[0])
        recorded = await pools[0].fetch("SELECT version, name FROM schema_migrations ORDER BY 1")
    finally:
        for pool in pools:
            await pool.close()
    versions = [m.version for m in migrations()]
    assert sorted(v for applied in results for v in applied) == versions
    assert again == []
    assert [(r["version"], r["name"]) for r in recorded] == [
        (m.version, m.name) for m in migrations()
    ]


async def test_an_edited_applied_migration_is_refused(gateway_dsn: str) -> None:
    pool = await asyncpg.create_pool(gateway_dsn, min_size=1, max_size=1)
    try:
        await migrate(pool)
        await pool.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match="changed since it was applied"):
            await migrate(pool)
    finally:
        await pool.execute(
            "UPDATE schema_migrations SET checksum = $1 WHERE version = 1",
            migrations()[0].checksum,
        )
        await pool.close()


async def test_retention_deletes_only_rows_older_than_the_tables_limit(
    gateway: Any, js: JetStreamContext, db: asyncpg.Connection, gateway_dsn: str
) -> None:
    symbol = sym()
    old, fresh = tick(symbol, 1.0, seconds_ago=40 * 86400), tick(symbol, 2.0)
    async with gateway():
        await publish(js, old)
        await publish(js, fresh)
        for _ in range(200):
            if await db.fetchval("SELECT count(*) FROM price_ticks WHERE symbol=$1", symbol) == 2:
                break
            await asyncio.sleep(0.05)
    database = Database(gateway_dsn, min_size=1, max_size=1)
    database.start()
    try:
        await database.wait_ready(10)
        deleted = await purge_expired(database, {"price_ticks": timedelta(days=30)})
    finally:
        await database.stop()
    assert deleted["price_ticks"] >= 1
    left = await db.fetch("SELECT event_id::text AS id FROM price_ticks WHERE symbol=$1", symbol)
    assert [r["id"].replace("-", "") for r in left] == [message_id(fresh)]


async def test_a_new_replica_serves_what_was_persisted_before_it_started(
    gateway: Any, js: JetStreamContext, db: asyncpg.Connection
) -> None:
    symbol = sym()
    async with gateway():
        await publish(js, tick(symbol, 123.0))
        for _ in range(200):
            if await db.fetchval(
                "SELECT count(*) FROM latest_events WHERE subject LIKE $1", f"%{symbol}"
            ):
                break
            await asyncio.sleep(0.05)
    async with gateway() as base, httpx.AsyncClient(base_url=base, timeout=5) as client:
        body = (await client.get(f"/api/v1/prices/{symbol}")).json()
    assert body["consensus"]["price"] == 123.0


async def test_a_replica_serves_what_was_stored_before_its_feed_once_it_is_persisted(
    gateway: Any, js: JetStreamContext
) -> None:
    """Facts already in JetStream when a gateway starts come neither through its live feed
    (which begins at the streams' ends) nor through the first warm-up (not persisted yet):
    the live state warms again until the persisters have caught up."""
    symbol = sym()
    await publish(js, tick(symbol, 77.0, seconds_ago=5))
    await publish(js, tick(symbol, 76.5, source="kraken", seconds_ago=5))
    async with (
        gateway(persist_from="all") as base,
        httpx.AsyncClient(base_url=base, timeout=5) as client,
    ):
        body: dict[str, Any] = {}
        for _ in range(300):
            response = await client.get(f"/api/v1/prices/{symbol}")
            if response.status_code == 200:
                body = response.json()
                if body.get("consensus") and body.get("providers"):
                    break
            await asyncio.sleep(0.05)
    assert body.get("consensus", {}).get("price") == 77.0, body
    assert [p["source"] for p in body["providers"]] == ["kraken"], body


async def test_replay_mode_keeps_recorded_rows_however_old(
    gateway: Any, js: JetStreamContext, db: asyncpg.Connection
) -> None:
    """Recorded bodies are dated when they were recorded: retention would delete a replay."""
    symbol = sym()
    recorded = tick(symbol, 5.0, seconds_ago=3 * 365 * 86400)
    async with gateway(replay=True, retention_interval_s=0.1):
        await publish(js, recorded)
        for _ in range(200):
            if await db.fetchval("SELECT count(*) FROM price_ticks WHERE symbol=$1", symbol):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # five retention intervals
    left = await db.fetchval("SELECT count(*) FROM price_ticks WHERE symbol=$1", symbol)
    assert left == 1
