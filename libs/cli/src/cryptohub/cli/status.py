"""``cryptohub status``: is what ``cryptohub up`` started still running and healthy?"""

import asyncio
import os
import sys
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import msgspec

from cryptohub.cli.state import Endpoint, Process, State, read_state
from cryptohub.cli.up import external_url
from cryptohub.common.embedded import port_accepts

__all__ = ["Component", "check", "status"]

EXIT_HEALTHY, EXIT_UNHEALTHY, EXIT_NOTHING_RUNNING = 0, 1, 3
_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Component:
    """One line of the report."""

    name: str
    pid: int | None
    state: str
    healthy: bool
    detail: str = ""


def status(*, data_dir: Path, as_json: bool = False) -> int:
    """Print the report of ``data_dir`` (a table, or JSON); 0 healthy, 1 not, 3 nothing runs."""
    data_dir = data_dir.absolute()
    state = read_state(data_dir)
    components = check(state) if state is not None else []
    nothing = not any(c.pid is not None and _alive(c.pid) for c in components)
    healthy = bool(components) and all(c.healthy for c in components)
    if as_json:
        report = {
            "data_dir": str(data_dir),
            "running": not nothing,
            "healthy": healthy and not nothing,
            "mode": None if state is None else state.mode,
            "started_at": None if state is None else state.started_at.isoformat(),
            "components": [asdict(c) for c in components],
        }
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    elif nothing:
        sys.stdout.write(f"cryptohub is not running (data dir {data_dir})\n")
    else:
        sys.stdout.write(_table(state, components))
    if nothing:
        return EXIT_NOTHING_RUNNING
    return EXIT_HEALTHY if healthy else EXIT_UNHEALTHY


def check(state: State) -> list[Component]:
    """Probe every process and server the state names."""
    components = [_process("up", state.pid, f"{state.mode} mode")]
    components.append(_nats(state.nats))
    components.append(asyncio.run(_postgres(state.postgres)))
    if state.replay is not None:
        components.append(_child(state.replay, f"http://127.0.0.1:{state.replay.port}"))
    components.extend(_child(s, f"metrics :{s.port}") for s in state.services)
    return components


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _process(name: str, pid: int | None, detail: str) -> Component:
    if pid is None:
        return Component(name, None, "not running", False, detail)
    alive = _alive(pid)
    return Component(name, pid, "running" if alive else "dead", alive, detail)


def _child(process: Process, detail: str) -> Component:
    if process.restarts:
        detail += f", {process.restarts} restart(s)"
    return _process(process.name, process.pid, detail)


def _nats(endpoint: Endpoint) -> Component:
    url = endpoint.url if endpoint.pid is not None else external_url("NATS") or endpoint.url
    if endpoint.pid is not None and not _alive(endpoint.pid):
        return Component("nats", endpoint.pid, "dead", False, endpoint.url)
    if endpoint.monitor_url is not None:
        ok, why = _http_ok(f"{endpoint.monitor_url}/healthz")
    else:
        ok, why = _tcp_ok(url.split(",")[0])
    return Component("nats", endpoint.pid, "healthy" if ok else "unhealthy", ok, endpoint.url + why)


async def _postgres(endpoint: Endpoint) -> Component:
    # An external DSN is stored masked: the environment has the real one.
    dsn = endpoint.url if endpoint.pid is not None else external_url("DATABASE") or endpoint.url
    if endpoint.pid is not None and not _alive(endpoint.pid):
        return Component("postgres", endpoint.pid, "dead", False, endpoint.url)
    try:
        conn = await asyncpg.connect(dsn, timeout=_TIMEOUT)
        try:
            await conn.fetchval("SELECT 1", timeout=_TIMEOUT)
        finally:
            await conn.close(timeout=_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = f" ({type(exc).__name__})"
        return Component("postgres", endpoint.pid, "unhealthy", False, endpoint.url + reason)
    return Component("postgres", endpoint.pid, "healthy", True, endpoint.url)


def _http_ok(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as resp:  # noqa: S310 - loopback URL
            return resp.status == 200, ""
    except urllib.error.HTTPError as exc:
        return False, f" (healthz {exc.code})"
    except (urllib.error.URLError, OSError) as exc:
        return False, f" ({type(exc).__name__})"


def _tcp_ok(url: str) -> tuple[bool, str]:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    if port_accepts(host, port, timeout=_TIMEOUT):
        return True, ""
    return False, " (connection refused or timed out)"


def _table(state: State | None, components: list[Component]) -> str:
    header = ("COMPONENT", "PID", "STATE", "DETAIL")
    rows = [header] + [(c.name, str(c.pid or "-"), c.state, c.detail) for c in components]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in rows]
    if state is not None:
        lines.append(f"data {state.data_dir}, up since {state.started_at:%Y-%m-%d %H:%M:%S} UTC")
    return "\n".join(line.rstrip() for line in lines) + "\n"
