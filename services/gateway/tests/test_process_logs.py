"""The gateway as `cryptohub up` runs it, a process of its own: every line it writes, its HTTP
server's included, is one JSON object of the service, or with CRYPTOHUB_LOG_JSON=false the plain
format of configure_logging; granian and uvicorn alike."""

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import sys
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from cryptohub.common.embedded import free_port
from cryptohub.common.streams import STREAMS
from cryptohub.common.testing import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

# configure_logging's plain format: "2026-01-02 03:04:05,678 INFO some.logger: message".
PLAIN = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) (?P<logger>\S+): "
)
# The HTTP server's own loggers (granian's Rust side logs under `_granian.*`).
SERVER_LOGGER = {"granian": "_granian", "uvicorn": "uvicorn.error"}
ACCESS_LOGGER = {"granian": "granian.access", "uvicorn": "uvicorn.access"}


class Output:
    """Lines a process writes to one pipe, collected as they come."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        try:
            while line := await stream.readline():
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self._changed.set()
        finally:
            self._changed.set()

    async def wait_for(self, text: str) -> None:
        """Until a line containing `text` has come; the caller bounds the wait."""
        while not any(text in line for line in self.lines):
            assert not self.task.done(), f"the pipe closed without a line containing {text!r}"
            self._changed.clear()
            await self._changed.wait()


def _env(nats_url: str, dsn: str, server: str, port: int, durable: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOHUB_")}
    env.update(
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": dsn,
            "CRYPTOHUB_HOST": "127.0.0.1",
            "CRYPTOHUB_PORT": str(port),
            "CRYPTOHUB_SERVER": server,
            "CRYPTOHUB_PERSIST_DURABLE": durable,
            "CRYPTOHUB_PERSIST_FROM": "new",
        }
    )
    return env


async def _wait_healthy(base: str, process: asyncio.subprocess.Process, text: Any) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=2) as client, asyncio.timeout(30):
        while True:
            assert process.returncode is None, f"gateway exited early:\n{text()}"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)


def _json_lines(lines: list[str]) -> list[dict[str, Any]]:
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict), line
        assert record.get("service") == "gateway", line
        assert {"ts", "level", "logger", "msg"} <= record.keys(), line
        records.append(record)
    return records


def _plain_lines(lines: list[str]) -> list[str]:
    """The logger name of each line."""
    names = []
    for line in lines:
        with contextlib.suppress(ValueError):
            json.loads(line)
            pytest.fail(f"a JSON line with CRYPTOHUB_LOG_JSON=false: {line!r}")
        match = PLAIN.match(line)
        assert match is not None, f"not the plain format: {line!r}"
        names.append(match["logger"])
    return names


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
@pytest.mark.parametrize("log_json", [True, False], ids=["json", "plain"])
async def test_every_line_follows_cryptohub_log_json(
    server: str, log_json: bool, nats_url: str, gateway_dsn: str, js: JetStreamContext
) -> None:
    """JSON is the default (CRYPTOHUB_LOG_JSON unset), with access lines turned on to see them
    JSON too; the plain run keeps the default access_log=false, so it has none."""
    port, durable = free_port(), unique_name("gwlog")
    env = _env(nats_url, gateway_dsn, server, port, durable)
    if log_json:
        env["CRYPTOHUB_ACCESS_LOG"] = "true"
    else:
        env["CRYPTOHUB_LOG_JSON"] = "false"
    path = f"/api/v1/no-such-route-{secrets.token_hex(4)}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cryptohub.gateway",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stdout, stderr = Output(process.stdout), Output(process.stderr)

    def text() -> str:
        return "\n".join(["--- stdout", *stdout.lines, "--- stderr", *stderr.lines])[-6000:]

    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_healthy(base, process, text)
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            assert (await client.get(path)).status_code == 404
        if log_json:  # the server writes its access line once the response is sent
            async with asyncio.timeout(10):
                await stderr.wait_for(path)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await asyncio.gather(process.wait(), stdout.task, stderr.task)
        assert process.returncode == 0, text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for spec in STREAMS:
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(spec.name, durable)

    lines = [line for line in stdout.lines + stderr.lines if line.strip()]
    assert lines, "the gateway wrote nothing"
    if log_json:
        records = _json_lines(lines)
        loggers = [record["logger"] for record in records]
        access = [r["msg"] for r in records if r["logger"] == ACCESS_LOGGER[server]]
        assert any(path in msg for msg in access), text()
    else:
        loggers = _plain_lines(lines)
        assert ACCESS_LOGGER[server] not in loggers, text()
    # The HTTP server's own lines go through our handler, neither dropped nor printed bare.
    own = SERVER_LOGGER[server]
    assert any(name == own or name.startswith(f"{own}.") for name in loggers), text()
    assert "cryptohub.gateway" in loggers, text()
