"""``cryptohub up``: embedded NATS and PostgreSQL, the replay server and every service."""

import asyncio
import fcntl
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from cryptohub.cli.errors import AlreadyRunningError, CliError
from cryptohub.cli.policy import Backoff, RestartPolicy
from cryptohub.cli.services import select
from cryptohub.cli.state import Endpoint, Process, State, mask_url, remove_state, write_state
from cryptohub.cli.supervisor import ChildSpec, Supervisor
from cryptohub.common.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedServerError,
    free_port,
    port_accepts,
    reserve_port,
)
from cryptohub.common.replay.routes import RouteTableError, load_routes

__all__ = ["external_url", "http_port", "replay_env", "up"]

log = logging.getLogger(__name__)

_LOCK_FILE = "up.lock"
_REPLAY_READY_TIMEOUT = 15.0
_WATCH_INTERVAL = 1.0
DEFAULT_HTTP_PORT = 7860  # the gateway's default, as the old hub's


@dataclass(frozen=True, slots=True)
class _Infra:
    nats_url: str
    database_url: str
    nats: EmbeddedNats | None
    postgres: EmbeddedPostgres | None

    def endpoints(self) -> tuple[Endpoint, Endpoint]:
        nats = Endpoint(url=mask_url(self.nats_url))
        if self.nats is not None:
            nats = Endpoint(
                url=self.nats.url,
                pid=self.nats.pid,
                monitor_url=self.nats.monitor_url,
                data_dir=str(self.nats.data_dir),
            )
        postgres = Endpoint(url=mask_url(self.database_url))
        if self.postgres is not None:
            postgres = Endpoint(
                url=self.postgres.dsn, pid=self.postgres.pid, data_dir=str(self.postgres.data_dir)
            )
        return nats, postgres


def external_url(kind: str) -> str | None:
    """``CRYPTOHUB_<KIND>_URL`` or ``<KIND>_URL`` from the environment (``NATS``, ``DATABASE``)."""
    return os.environ.get(f"CRYPTOHUB_{kind}_URL") or os.environ.get(f"{kind}_URL") or None


def http_port(environ: Mapping[str, str]) -> int:
    """The gateway's HTTP port as it will read it: ``CRYPTOHUB_PORT``, else 7860."""
    raw = environ.get("CRYPTOHUB_PORT", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_HTTP_PORT


def replay_env(replay_dir: Path, port: int) -> dict[str, str]:
    """Replay mode, every provider of ``replay_dir/routes.json`` pointed at its own recordings.

    Provider names come from the route table, not from folder names: a folder may hold the
    bodies of several providers (``rss/`` holds CoinDesk's and Cointelegraph's feeds). Any
    other provider goes to ``CRYPTOHUB_REPLAY_URL/<name>`` (a 404), never to the internet.
    """
    try:
        providers = load_routes(replay_dir).providers()
    except RouteTableError as exc:
        raise CliError(f"--replay {replay_dir}: {exc}") from exc
    replay_url = f"http://127.0.0.1:{port}"
    env = {"CRYPTOHUB_REPLAY": "1", "CRYPTOHUB_REPLAY_URL": replay_url}
    for name in sorted(providers):
        key = re.sub(r"[^A-Z0-9]", "_", name.upper())
        env[f"CRYPTOHUB_{key}_BASE_URL"] = f"{replay_url}/{name}"
    return env


def up(*, data_dir: Path, replay_dir: Path | None = None, only: Sequence[str] | None = None) -> int:
    """Run everything until SIGINT/SIGTERM, then stop it all; the exit status."""
    data_dir = data_dir.absolute()
    names = select(only)
    if replay_dir is not None and not replay_dir.is_dir():
        raise CliError(f"--replay {replay_dir}: not a directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    # The gateway binds its HTTP port only once it runs: nothing started here may take it first.
    reserve_port(http_port(os.environ))
    with _exclusive(data_dir), _signals_restored():
        # Until the supervisor handles signals, SIGTERM interrupts like Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        remove_state(data_dir)  # any state left here belongs to a run that died
        nats: EmbeddedNats | None = None
        postgres: EmbeddedPostgres | None = None
        try:
            nats_url = external_url("NATS")
            if nats_url is None:
                nats = EmbeddedNats(data_dir / "nats")  # assigned first: stopped if interrupted
                nats.start()
                nats_url = nats.url
            else:
                log.info("using the NATS at %s (NATS_URL)", mask_url(nats_url))
            database_url = external_url("DATABASE")
            if database_url is None:
                postgres = EmbeddedPostgres(data_dir / "postgres")
                postgres.start()
                database_url = postgres.dsn
            else:
                log.info("using the PostgreSQL at %s (DATABASE_URL)", mask_url(database_url))
            infra = _Infra(nats_url, database_url, nats, postgres)
            asyncio.run(_supervise(infra, data_dir, names, replay_dir))
        except EmbeddedServerError as exc:
            log.error("cannot start the infrastructure: %s", exc)
            return 1
        except KeyboardInterrupt:
            log.info("interrupted")
        finally:
            _ignore_signals()
            remove_state(data_dir)
            if postgres is not None:
                postgres.stop()
            if nats is not None:
                nats.stop()
    log.info("stopped")
    return 0


async def _supervise(
    infra: _Infra, data_dir: Path, names: Sequence[str], replay_dir: Path | None
) -> None:
    started_at = datetime.now(UTC)
    metrics_ports = {name: free_port() for name in names}
    replay_port = free_port() if replay_dir is not None else None
    supervisor: Supervisor

    def save() -> None:
        pids, restarts = supervisor.pids, supervisor.restarts
        nats, postgres = infra.endpoints()
        replay = None
        if replay_port is not None:
            replay = Process(
                name="replay",
                pid=pids.get("replay"),
                port=replay_port,
                restarts=restarts.get("replay", 0),
            )
        state = State(
            pid=os.getpid(),
            started_at=started_at,
            mode="live" if replay_dir is None else "replay",
            data_dir=str(data_dir),
            nats=nats,
            postgres=postgres,
            replay=replay,
            services=[
                Process(
                    name=name,
                    pid=pids.get(name),
                    port=metrics_ports[name],
                    restarts=restarts.get(name, 0),
                )
                for name in names
            ],
        )
        write_state(data_dir, state)

    supervisor = Supervisor(on_change=save)
    supervisor.install_signal_handlers()
    try:
        save()
        env = {"NATS_URL": infra.nats_url, "DATABASE_URL": infra.database_url}
        env["PYTHONUNBUFFERED"] = "1"
        if replay_dir is not None and replay_port is not None:
            supervisor.spawn(_replay_spec(replay_dir, replay_port))
            await _wait_for_replay(supervisor, replay_port)
            env |= replay_env(replay_dir, replay_port)
        if not names:
            log.info("no service is installed: running NATS and PostgreSQL only (Ctrl-C stops)")
        for name in names:
            if supervisor.stopping:
                break
            child_env = env | {"CRYPTOHUB_METRICS_PORT": str(metrics_ports[name])}
            supervisor.spawn(ChildSpec(name, _service_argv(name), child_env))
        log.info(
            "cryptohub up: NATS %s, PostgreSQL %s, %d service(s)%s",
            mask_url(infra.nats_url),
            mask_url(infra.database_url),
            len(names),
            "" if replay_dir is None else f", replaying {replay_dir}",
        )
        watchdog = asyncio.create_task(_restart_dead_servers(infra, supervisor, save))
        await supervisor.wait_for_stop()
        watchdog.cancel()
    finally:
        await supervisor.shutdown()
        supervisor.remove_signal_handlers()
        _ignore_signals()  # from here on only the cleanup in up() runs


async def _restart_dead_servers(
    infra: _Infra, supervisor: Supervisor, save: Callable[[], None]
) -> None:
    """Bring a crashed embedded NATS or PostgreSQL back on the same port, with backoff."""
    servers: list[EmbeddedNats | EmbeddedPostgres] = [
        s for s in (infra.nats, infra.postgres) if s is not None
    ]
    backoffs = {id(s): Backoff(RestartPolicy(initial_delay=1.0)) for s in servers}
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(_WATCH_INTERVAL)
        for server in servers:
            if server.running or supervisor.stopping:
                continue
            name = type(server).__name__
            log.error("%s (port %s) died; restarting it", name, server.port)
            began = loop.time()
            try:
                await asyncio.to_thread(server.start)
            except EmbeddedServerError as exc:
                delay = backoffs[id(server)].after_crash(loop.time() - began)
                log.error("%s did not come back: %s; next try in %.0fs", name, exc, delay)
                await asyncio.sleep(delay)
            else:
                save()


def _service_argv(name: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "cryptohub.cli", "run", name)


def _replay_spec(replay_dir: Path, port: int) -> ChildSpec:
    module = "cryptohub.common.replay"
    argv = (sys.executable, "-m", module, "--dir", str(replay_dir.absolute()), "--port", str(port))
    return ChildSpec("replay", argv, {"PYTHONUNBUFFERED": "1"})


async def _wait_for_replay(supervisor: Supervisor, port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _REPLAY_READY_TIMEOUT
    while loop.time() < deadline and not supervisor.stopping:
        if await asyncio.to_thread(port_accepts, "127.0.0.1", port, 0.2):
            return
        await asyncio.sleep(0.1)
    if not supervisor.stopping:
        log.warning(
            "the replay server is not up after %ss; starting services anyway",
            _REPLAY_READY_TIMEOUT,
        )


@contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """Hold ``up.lock`` in ``data_dir``: one ``cryptohub up`` per data directory."""
    with (data_dir / _LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip()
            raise AlreadyRunningError(int(holder or 0), str(data_dir)) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)
            fcntl.flock(lock, fcntl.LOCK_UN)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _ignore_signals() -> None:
    """Let the cleanup finish: a second Ctrl-C must not leave the servers running."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


@contextmanager
def _signals_restored() -> Iterator[None]:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
