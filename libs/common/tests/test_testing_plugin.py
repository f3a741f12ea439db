"""The pytest fixtures of cryptohub.common.testing: NATS, JetStream and PostgreSQL are real."""

import asyncio

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.testing import unique_name

pytestmark = pytest.mark.integration


def test_unique_name_differs_each_call() -> None:
    names = {unique_name("S") for _ in range(100)}
    assert len(names) == 100
    assert all(n.startswith("S_") for n in names)


@pytest.mark.timeout(30)
async def test_js_fixture_publishes_to_a_test_own_stream(js: JetStreamContext) -> None:
    stream = unique_name("PLUGIN")
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    ack = await js.publish(f"{stream}.a", b"1", timeout=5)
    assert ack.seq == 1


@pytest.mark.timeout(30)
async def test_nats_server_restart_keeps_url_and_stream(
    nats_server: EmbeddedNats, nats_url: str, nats_client: NatsClient
) -> None:
    stream = unique_name("PLUGIN")
    js = nats_client.jetstream()
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    await js.publish(f"{stream}.a", b"1", timeout=5)

    nats_server.kill()
    nats_server.restart()

    assert nats_server.url == nats_url
    # A request written to the dead connection is lost: wait for the client to reconnect.
    for _ in range(200):
        if nats_client.stats["reconnects"] >= 1 and nats_client.is_connected:
            break
        await asyncio.sleep(0.05)
    info = await js.stream_info(stream)
    assert info.state.messages == 1


@pytest.mark.timeout(60)
async def test_postgres_dsn_answers_select_1(postgres_dsn: str) -> None:
    conn = await asyncpg.connect(postgres_dsn, timeout=5)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
