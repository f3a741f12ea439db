"""Gateway test fixtures: a fresh database per module, settings, a gateway served on loopback."""

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import nats
import nats.js.errors
import pytest
import pytest_asyncio
from nats.js import JetStreamContext

from cryptohub.common.embedded import free_port
from cryptohub.common.events import ProviderStateRecord, encode
from cryptohub.common.streams import PROVIDER_STATE_KV, STREAMS, ensure_kv
from cryptohub.common.testing import unique_name
from cryptohub.gateway.settings import GatewaySettings
from cryptohub.gateway.testing.events import at, publish, sym
from cryptohub.gateway.testing.seed import ADMIN_KEY, Seed, make_articles, seed_events
from cryptohub.gateway.testing.server import serve_gateway


def dsn_with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn_with_database(dsn, "postgres"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_database(server_dsn: str) -> Iterator[str]:
    """A new empty database on the server of `server_dsn`, dropped afterwards."""
    name = f"gw_{secrets.token_hex(6)}"
    asyncio.run(_admin(server_dsn, f'CREATE DATABASE "{name}"'))
    try:
        yield dsn_with_database(server_dsn, name)
    finally:
        asyncio.run(_admin(server_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def gateway_dsn(postgres_dsn: str) -> Iterator[str]:
    """A database of its own for each test module."""
    with fresh_database(postgres_dsn) as dsn:
        yield dsn


@pytest.fixture
def make_settings(nats_url: str, gateway_dsn: str) -> Callable[..., GatewaySettings]:
    """Settings for a test gateway: loopback, its own persistence consumer, short timers."""
    durable = unique_name("gw")

    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "nats_url": nats_url,
            "database_url": gateway_dsn,
            "host": "127.0.0.1",
            "port": free_port(),
            "persist_durable": durable,
            "persist_from": "new",
            "persist_batch_wait_s": 0.02,
            "persist_retry_max_s": 0.5,
            "latest_interval_s": 0.1,
            "rate_limit_per_minute": 0,
            "db_pool_min": 1,
            "db_pool_max": 4,
            "log_json": False,
        }
        values.update(overrides)
        return GatewaySettings(**values)

    return make


GatewayFactory = Callable[..., AbstractAsyncContextManager[str]]


@pytest.fixture
async def gateway(
    make_settings: Callable[..., GatewaySettings], js: JetStreamContext
) -> AsyncIterator[GatewayFactory]:
    """`async with gateway(**settings) as base_url:` runs a gateway; consumers removed after."""
    durables: set[str] = set()

    def start(**overrides: Any) -> AbstractAsyncContextManager[str]:
        settings = make_settings(**overrides)
        durables.add(settings.persist_durable)
        return serve_gateway(settings)

    yield start
    for durable in durables:
        for spec in STREAMS:
            with contextlib.suppress(Exception):
                await js.delete_consumer(spec.name, durable)


@pytest.fixture
async def db(gateway_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the module's database, for assertions."""
    conn = await asyncpg.connect(gateway_dsn, timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(nats_url: str, gateway_dsn: str) -> AsyncIterator[Seed]:
    btc = sym()
    seed = Seed(
        base="",
        btc=btc,
        old=sym(),
        chain=f"chain-{btc}",
        provider=f"prov-{btc}",
        alert_open=f"al-open-{btc}",
        alert_resolved=f"al-res-{btc}",
        articles=make_articles(btc),
    )
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=gateway_dsn,
        host="127.0.0.1",
        port=free_port(),
        persist_durable=unique_name("gw"),
        persist_from="new",
        persist_batch_wait_s=0.02,
        latest_interval_s=0.1,
        rate_limit_per_minute=0,
        db_pool_min=1,
        db_pool_max=4,
        admin_api_keys=(hashlib.sha256(ADMIN_KEY.encode()).hexdigest(),),
    )
    nc = await nats.connect(nats_url, connect_timeout=5)
    js = nc.jetstream()
    try:
        kv = await ensure_kv(js, PROVIDER_STATE_KV)
        record = ProviderStateRecord(
            provider=seed.provider,
            state="degraded",
            reason="slow calls",
            since=at(120),
            p50_ms=120.0,
            p95_ms=900.0,
            calls=50,
            success_rate=0.8,
        )
        await kv.put(seed.provider, encode(record))
        async with serve_gateway(settings) as base:
            seed.base = base
            events = seed_events(seed)
            for event in events:
                await publish(js, event)
            await _wait_persisted(base, seed)
            yield seed
        await kv.delete(seed.provider)
        for spec in STREAMS:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(spec.name, settings.persist_durable)
    finally:
        await nc.close()


async def _wait_persisted(base: str, seed: Seed) -> None:
    """Until the last-published kinds are readable through the API."""
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(200):
            news = (await client.get("/api/v1/news", params={"symbol": seed.btc})).json()
            blocks = (await client.get(f"/api/v1/chain/blocks/{seed.chain}")).json()
            alerts = (await client.get("/api/v1/alerts")).json()
            ready = (
                len(news.get("data", [])) == 2
                and any(a["sentiment"] for a in news["data"])
                and len(blocks.get("data", [])) == 3
                and sum(
                    a["id"] == seed.alert_resolved and a["state"] == "resolved"
                    for a in alerts.get("data", [])
                )
                == 1
            )
            if ready:
                return
            await asyncio.sleep(0.05)
    raise TimeoutError("seed data did not become readable")


@pytest_asyncio.fixture(loop_scope="module")
async def client(api: Seed) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.base, timeout=5) as http:
        yield http
