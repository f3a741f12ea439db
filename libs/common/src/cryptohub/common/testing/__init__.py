"""Pytest plugin: real NATS and PostgreSQL for CryptoHub tests (``pytest_plugins = [__name__]``)."""

import importlib
import importlib.util
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from cryptohub.common.embedded import EmbeddedNats, EmbeddedPostgres

__all__ = [
    "js",
    "nats_client",
    "nats_server",
    "nats_url",
    "postgres_dsn",
    "private_tmp_dir",
    "unique_name",
]

log = logging.getLogger(__name__)

# Fixtures other modules of this package add once they exist (the lead folds them in).
pytest_plugins = [
    name
    for name in ("cryptohub.common.testing.replay",)
    if importlib.util.find_spec(name) is not None
]


def unique_name(prefix: str = "T") -> str:
    """A stream, bucket or consumer name no other test uses: ``PREFIX_1a2b3c4d``."""
    return f"{prefix}_{secrets.token_hex(4)}"


@contextmanager
def private_tmp_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory directly in the system temp dir, removed afterwards.

    Use it (not ``tmp_path``) for PostgreSQL data: as root the server runs as another
    user, and every new pytest session makes ``/tmp/pytest-of-root`` private again,
    which would lock that user out of a data dir beneath it.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def _cryptohub_embedded_nats(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmbeddedNats | None]:
    if os.environ.get("NATS_URL"):
        yield None
        return
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nats_url(_cryptohub_embedded_nats: EmbeddedNats | None) -> str:
    """``NATS_URL`` if set, else the URL of an embedded JetStream server for this session."""
    if _cryptohub_embedded_nats is None:
        return os.environ["NATS_URL"]
    return _cryptohub_embedded_nats.url


@pytest.fixture
def nats_server(_cryptohub_embedded_nats: EmbeddedNats | None) -> Iterator[EmbeddedNats]:
    """The session's embedded server, to kill or restart in a drill; running again after the test.

    Skips the test when ``NATS_URL`` points at an external server.
    """
    if _cryptohub_embedded_nats is None:
        pytest.skip("NATS_URL is an external server; this test kills/restarts the embedded one")
    server = _cryptohub_embedded_nats
    yield server
    if not server.running:
        server.start()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """``DATABASE_URL`` if set, else a PostgreSQL container if Docker runs, else an embedded one."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    if _docker_engine_reachable():
        yield from _postgres_container()
        return
    with private_tmp_dir("cryptohub-test-pg-") as data_dir:
        server = EmbeddedPostgres(data_dir, durable=False)
        server.start()
        try:
            yield server.dsn
        finally:
            server.stop()


@pytest_asyncio.fixture
async def nats_client(nats_url: str) -> AsyncIterator[NatsClient]:
    """A connected nats-py client, closed after the test; reconnects fast (0.2 s) after a drill."""
    client = await nats.connect(
        nats_url, connect_timeout=5, reconnect_time_wait=0.2, name="cryptohub-test"
    )
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def js(nats_client: NatsClient) -> JetStreamContext:
    """The JetStream context of ``nats_client``."""
    return nats_client.jetstream()


def _docker_engine_reachable() -> bool:
    """A Docker engine answers and testcontainers is installed (a client alone is not enough)."""
    if importlib.util.find_spec("testcontainers") is None or shutil.which("docker") is None:
        return False
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],  # noqa: S607 - PATH lookup
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _postgres_container() -> Iterator[str]:
    postgres = importlib.import_module("testcontainers.postgres")
    container = postgres.PostgresContainer("postgres:17-alpine", dbname="cryptohub")
    container.start()
    try:
        dsn: str = container.get_connection_url(driver=None)
        log.info("PostgreSQL container for tests at %s", container.get_container_host_ip())
        yield dsn
    finally:
        container.stop()
