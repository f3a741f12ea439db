"""Embedded NATS and PostgreSQL: start on free ports, serve, survive a restart with their data."""

import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import pytest

from cryptohub.common.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedServerError,
    free_port,
    ports,
    reserve_port,
    wait_for_port,
)
from cryptohub.common.testing import private_tmp_dir, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    with private_tmp_dir("cryptohub-test-pg-") as path:
        yield path


@pytest.mark.timeout(10)
def test_free_port_is_bindable_and_wait_for_port_times_out() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    with pytest.raises(TimeoutError):
        wait_for_port("127.0.0.1", port, timeout=0.2)


@pytest.mark.timeout(30)
async def test_nats_starts_on_free_port_and_acks_jetstream_publish(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path / "nats") as server:
        assert server.url == f"nats://127.0.0.1:{server.port}"
        assert server.running
        client = await nats.connect(server.url, connect_timeout=5)
        try:
            js = client.jetstream()
            stream = unique_name("EMB")
            await js.add_stream(name=stream, subjects=[f"{stream}.>"])
            ack = await js.publish(f"{stream}.x", b"hello", timeout=5)
            assert (ack.stream, ack.seq) == (stream, 1)
        finally:
            await client.close()
    assert not server.running
    assert (tmp_path / "nats" / "nats-server.log").read_text()


@pytest.mark.timeout(30)
async def test_nats_kill_and_restart_keeps_stream_data_on_same_port(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        port, stream = server.port, unique_name("DRILL")
        client = await nats.connect(server.url, connect_timeout=5)
        js = client.jetstream()
        await js.add_stream(name=stream, subjects=[f"{stream}.>"])
        for i in range(50):
            await js.publish(f"{stream}.x", str(i).encode(), timeout=5)
        await client.close()

        server.kill()
        assert not server.running
        server.restart()

        assert server.port == port
        client = await nats.connect(server.url, connect_timeout=5)
        try:
            info = await client.jetstream().stream_info(stream)
            assert info.state.messages == 50
            last = await client.jetstream().get_last_msg(stream, f"{stream}.x")
            assert last.data == b"49"
        finally:
            await client.close()
    finally:
        server.stop()


@pytest.mark.timeout(30)
def test_nats_on_a_taken_port_fails_with_the_server_output(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        server = EmbeddedNats(tmp_path / "nats", port=sock.getsockname()[1])
        with pytest.raises(EmbeddedServerError) as caught:
            server.start()
    assert caught.value.server == "nats-server"
    assert "address already in use" in caught.value.log_tail
    assert not server.running


@pytest.mark.timeout(60)
async def test_postgres_starts_and_answers_select_1(pg_dir: Path) -> None:
    with EmbeddedPostgres(pg_dir, durable=False) as server:
        assert server.dsn == f"postgresql://postgres@127.0.0.1:{server.port}/cryptohub"
        conn = await asyncpg.connect(server.dsn, timeout=5)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
    assert not server.running


@pytest.mark.timeout(60)
async def test_postgres_restart_keeps_rows_on_same_port(pg_dir: Path) -> None:
    server = EmbeddedPostgres(pg_dir).start()
    try:
        port = server.port
        conn = await asyncpg.connect(server.dsn, timeout=5)
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
        await conn.executemany("INSERT INTO t VALUES ($1, $2)", [(1, "a"), (2, "b")])
        await conn.close()

        server.restart()

        assert server.port == port
        conn = await asyncpg.connect(server.dsn, timeout=5)
        try:
            rows = await conn.fetch("SELECT id, name FROM t ORDER BY id")
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
        finally:
            await conn.close()
    finally:
        server.stop()


@pytest.mark.timeout(60)
async def test_postgres_kill_then_start_recovers_committed_rows(pg_dir: Path) -> None:
    server = EmbeddedPostgres(pg_dir).start()
    try:
        conn = await asyncpg.connect(server.dsn, timeout=5)
        await conn.execute("CREATE TABLE t (id int)")
        await conn.execute("INSERT INTO t VALUES (7)")
        await conn.close()

        server.kill()
        server.start()

        conn = await asyncpg.connect(server.dsn, timeout=5)
        try:
            assert await conn.fetchval("SELECT id FROM t") == 7
        finally:
            await conn.close()
    finally:
        server.stop()


@pytest.mark.timeout(60)
def test_postgres_on_a_taken_port_fails_with_the_server_output(pg_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        server = EmbeddedPostgres(pg_dir, port=sock.getsockname()[1], durable=False)
        with pytest.raises(EmbeddedServerError) as caught:
            server.start()
    assert caught.value.server == "postgres"
    assert "already in use" in caught.value.log_tail
    assert not server.running


def test_free_port_never_hands_out_a_reserved_port_nor_the_same_port_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed = [free_port() for _ in range(20)]
    assert len(set(handed)) == len(handed)
    everything = set(range(1, 65536))
    # Every port reserved, or every port already handed out: none is left to give.
    monkeypatch.setattr(ports, "_reserved", everything)
    with pytest.raises(OSError, match="no free TCP port"):
        free_port()
    monkeypatch.setattr(ports, "_reserved", set())
    monkeypatch.setattr(ports, "_handed_out", everything)
    with pytest.raises(OSError, match="no free TCP port"):
        free_port()
    monkeypatch.setattr(ports, "_handed_out", set())
    reserve_port(handed[0])
    assert free_port() != handed[0]
