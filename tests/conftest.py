"""End-to-end harness: `cryptohub up --replay` as a real process tree on loopback, read the way a
user reads it (REST, WebSocket, PostgreSQL) and driven through the replay server's control API.

A test module asks for the `system` fixture (one running system per module) and says how it
wants it with module attributes: `SYSTEM_ENV` (settings, as environment variables) and
`EXTERNAL_INFRA` (True: the module's own embedded NATS and PostgreSQL, which a drill may kill,
given to `cryptohub up` as NATS_URL / DATABASE_URL; False: `cryptohub up` starts its own).
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import msgspec
import nats
import psutil
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from websockets.asyncio.client import ClientConnection, connect

from cryptohub.common.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from cryptohub.common.events import Event, decode
from cryptohub.common.streams import STREAMS
from cryptohub.common.testing import private_tmp_dir

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "fixtures" / "providers"
CLI = (sys.executable, "-m", "cryptohub.cli")
SERVICES = ("collector-market", "collector-news", "gateway", "health", "sentiment")
READY_WITHIN_S = 90.0
STOP_WITHIN_S = 40.0

# Seconds instead of minutes; shared by every module (a module's SYSTEM_ENV adds to it).
FAST_ENV: Mapping[str, str] = {
    "CRYPTOHUB_LOG_JSON": "false",
    "CRYPTOHUB_HOST": "127.0.0.1",
    "CRYPTOHUB_PUBLISH_TIMEOUT_S": "2",
    # collector-market: a small watch list, a price cycle a second, the BTC 1m candles Binance
    # has recorded (1h is recorded on Kraken only: Binance's 404s would make it look unwell),
    # limits that never pace a test (per minute: one Binance ticker call costs 80).
    "CRYPTOHUB_WATCH_TOP_N": "20",
    "CRYPTOHUB_PRICE_INTERVAL_S": "1",
    "CRYPTOHUB_PRICE_SOURCES": "8",
    # A provider that stops answering leaves the consensus after this (default 120 s).
    "CRYPTOHUB_CONSENSUS_MAX_AGE_S": "4",
    "CRYPTOHUB_CANDLE_SYMBOLS": '["btc"]',
    "CRYPTOHUB_CANDLE_INTERVALS": '["1m"]',
    "CRYPTOHUB_CANDLE_BACKFILL": "20",
    "CRYPTOHUB_CANDLE_MIN_POLL_S": "2",
    "CRYPTOHUB_CANDLE_MAX_POLL_S": "5",
    "CRYPTOHUB_GLOBAL_INTERVAL_S": "2",
    "CRYPTOHUB_TVL_INTERVAL_S": "5",
    "CRYPTOHUB_TVL_TOP_N": "5",
    "CRYPTOHUB_PROVIDER_LIMITS": json.dumps(
        {
            name: {"per_minute": 600_000}
            for name in (
                "coingecko",
                "binance",
                "kraken",
                "cryptocompare",
                "cryptocompare_data",
                "coinpaprika",
                "defillama",
                "defillama_coins",
            )
        }
    ),
    # collector-news: poll at once, then every few seconds.
    "CRYPTOHUB_FIRST_POLL_SPREAD_S": "0",
    "CRYPTOHUB_FEED_INTERVAL_S": "5",
    "CRYPTOHUB_FEAR_GREED_INTERVAL_S": "5",
    # health: judge within seconds, alert at once, probe soon.
    "CRYPTOHUB_HEALTH_WINDOW_S": "30",
    "CRYPTOHUB_HEALTH_MIN_CALLS": "3",
    "CRYPTOHUB_HEALTH_DEGRADED_CONSECUTIVE_FAILURES": "2",
    "CRYPTOHUB_HEALTH_OFFLINE_CONSECUTIVE_FAILURES": "3",
    "CRYPTOHUB_HEALTH_COOLDOWN_S": "3",
    "CRYPTOHUB_HEALTH_HALF_OPEN_SUCCESSES": "2",
    "CRYPTOHUB_HEALTH_TICK_S": "0.2",
    "CRYPTOHUB_HEALTH_STATE_REFRESH_S": "0.5",
    "CRYPTOHUB_HEALTH_ALERT_GROUP_WAIT_S": "0.5",
    "CRYPTOHUB_HEALTH_RATE_LIMIT_HOLD_S": "3",
    "CRYPTOHUB_HEALTH_DEGRADED_ALERT_AFTER_S": "2",
    # sentiment: republish the asset windows often.
    "CRYPTOHUB_SENTIMENT_REFRESH_S": "5",
}


class StepTimeoutError(AssertionError):
    """A bounded wait ran out; the message says what was awaited (and the system's log tail)."""


@dataclass
class System:
    """One `cryptohub up` and what it started."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    nats: EmbeddedNats | None = None  # ours when EXTERNAL_INFRA, else None
    postgres: EmbeddedPostgres | None = None
    _watched: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def state(self) -> dict[str, Any]:
        """`<data-dir>/state.json`, what `cryptohub status --json` reads."""
        return json.loads((self.data_dir / "state.json").read_text())  # type: ignore[no-any-return]

    @property
    def database_url(self) -> str:
        return str(self.state()["postgres"]["url"])

    @property
    def nats_url(self) -> str:
        return str(self.state()["nats"]["url"])

    @property
    def replay_url(self) -> str:
        return f"http://127.0.0.1:{self.state()['replay']['port']}"

    def service(self, name: str) -> dict[str, Any]:
        """A supervised child's entry in the state file: pid, port, restarts."""
        children = [*self.state()["services"], self.state()["replay"]]
        return next(c for c in children if c["name"] == name)  # type: ignore[no-any-return]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(line[:400] for line in text[-lines:])

    def watch_tree(self) -> None:
        """Remember every process of the tree now (services restart: call before stopping)."""
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(self.process.pid)
            for proc in [root, *root.children(recursive=True)]:
                self._watched.setdefault(proc.pid, proc)

    def leftovers(self) -> list[str]:
        """Processes of the tree (as last watched) still alive."""
        alive = []
        for proc in self._watched.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{proc.pid}: {' '.join(proc.cmdline())[:160]}")
        return alive

    def interrupt(self, within: float = STOP_WITHIN_S) -> int | None:
        """Ctrl-C, as a user stops it; its exit status, or None if it did not exit in time."""
        self.watch_tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return None

    def kill_everything(self) -> None:
        """Last resort after a failed test: no process of ours outlives the module."""
        self.watch_tree()
        for proc in self._watched.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    # --- what a user reads

    async def get(self, path: str, **params: Any) -> Any:
        """GET a gateway route; its JSON (AssertionError, with the body, unless 200)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            response = await client.get(path, params=params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    async def until(
        self,
        probe: Callable[[], Awaitable[T | None]],
        within: float,
        what: str,
        every: float = 0.25,
    ) -> T:
        """Call `probe` until it returns something true (not None, False or empty); that."""
        deadline = time.monotonic() + within
        last_error: BaseException | None = None
        while True:
            try:
                value = await probe()
            except (AssertionError, httpx.HTTPError, OSError, asyncpg.PostgresError) as exc:
                value, last_error = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                raise StepTimeoutError(
                    f"not within {within}s: {what} (last error: {last_error!r})\n"
                    f"--- cryptohub up, last lines:\n{self.log_tail()}"
                )
            await asyncio.sleep(every)

    @contextlib.asynccontextmanager
    async def websocket(self, *channels: str) -> AsyncIterator["Subscription"]:
        async with connect(self.ws_url, open_timeout=10, close_timeout=2) as ws:
            subscription = Subscription(ws)
            await subscription.subscribe(*channels)
            yield subscription

    async def fault(self, provider: str, path: str = "*", **fault: Any) -> None:
        """Make a provider misbehave (the replay server's POST /_replay/faults)."""
        async with httpx.AsyncClient(base_url=self.replay_url, timeout=10) as client:
            response = await client.post(
                "/_replay/faults", json={"provider": provider, "path": path, **fault}
            )
        assert response.status_code == 201, response.text

    async def clear_faults(self, provider: str | None = None) -> None:
        """Every fault of `provider` (of every provider when None) disarmed."""
        params = {} if provider is None else {"provider": provider}
        async with httpx.AsyncClient(base_url=self.replay_url, timeout=10) as client:
            response = await client.delete("/_replay/faults", params=params)
        assert response.status_code == 200, response.text

    async def replay_requests(self, provider: str, path: str | None = None) -> list[Any]:
        """What reached the replay server (`at`: its monotonic clock, seconds), oldest first."""
        params = {"provider": provider, **({"path": path} if path else {})}
        async with httpx.AsyncClient(base_url=self.replay_url, timeout=10) as client:
            response = await client.get("/_replay/requests", params=params)
        assert response.status_code == 200, response.text
        return response.json()["requests"]  # type: ignore[no-any-return]

    async def database(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url, timeout=10)

    # --- decoding, recordings, JetStream and PostgreSQL (test modules cannot import conftest)

    @staticmethod
    def event_of(frame_or_payload: Any) -> Event:
        """Decode a frame's `data` (or a REST payload) with the event contracts: validated."""
        data = frame_or_payload.get("data", frame_or_payload)
        return decode(msgspec.json.encode(data))

    @staticmethod
    def recorded(name: str) -> Any:
        """A recorded provider body (fixtures/providers), as JSON."""
        return json.loads((RECORDED / name).read_bytes())

    @staticmethod
    def parse_time(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    @staticmethod
    async def stream_ids(nc: NatsClient, since: datetime) -> dict[str, set[str]]:
        """Per stream, the event id (`Nats-Msg-Id`) of every message JetStream holds whose fact was
        observed at `since` or later (older recorded facts may be gone to retention)."""
        js = nc.jetstream()
        found: dict[str, set[str]] = {}
        for spec in STREAMS:
            ids: set[str] = set()
            for subject in spec.subjects:
                sub = await js.pull_subscribe(
                    subject,
                    stream=spec.name,
                    config=ConsumerConfig(
                        ack_policy=AckPolicy.NONE,
                        deliver_policy=DeliverPolicy.ALL,
                        mem_storage=True,
                    ),
                )
                try:
                    while (await sub.consumer_info()).num_pending:
                        for msg in await sub.fetch(1000, timeout=5):
                            if decode(msg.data).observed_at >= since:
                                ids.add((msg.headers or {})["Nats-Msg-Id"])
                finally:
                    await sub.unsubscribe()
            found[spec.name] = ids
        return found

    @staticmethod
    async def table_ids(db: asyncpg.Connection, since: datetime) -> list[str]:
        """Every event id PostgreSQL holds (all event tables), observed at `since` or later; a list,
        so that a row stored twice would show twice."""
        tables = await db.fetch(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'event_id' "
            "AND table_schema = current_schema()"
        )
        ids: list[str] = []
        for row in tables:
            name = row["table_name"]
            rows = await db.fetch(
                f'SELECT event_id FROM "{name}" WHERE observed_at >= $1',  # noqa: S608 - catalog name
                since,
            )
            ids.extend(r["event_id"].hex for r in rows)
        return ids

    @staticmethod
    def as_event_id(msg_id: str) -> str:
        """A `Nats-Msg-Id` (32 hex chars) as the gateway stores it (a uuid), in hex."""
        return uuid.UUID(msg_id).hex

    @staticmethod
    def recent(minutes: float = 60) -> datetime:
        """A floor for 'facts of this run' (recorded facts are years older)."""
        return datetime.now(UTC) - timedelta(minutes=minutes)


class Subscription:
    """A WebSocket client of the gateway's `/ws` channel protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def subscribe(self, *channels: str) -> None:
        await self.ws.send(json.dumps({"action": "subscribe", "channels": list(channels)}))

    async def data_frames(self, count: int, within: float, *, live: bool = True) -> list[Any]:
        """The next `count` data frames (live ones only, unless `live` is False)."""
        found: list[Any] = []
        async with asyncio.timeout(within):
            while len(found) < count:
                frame = json.loads(await self.ws.recv())
                if frame.get("type") == "ping":
                    await self.ws.send(json.dumps({"action": "pong"}))
                if "channel" not in frame or (live and frame.get("snapshot")):
                    continue
                found.append(frame)
        return found


# --- fixtures


def _environment(module: Any, port: int, infra: tuple[str, str] | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CRYPTOHUB_") and k not in {"NATS_URL", "DATABASE_URL"}
    }
    env.update(FAST_ENV)
    env.update(getattr(module, "SYSTEM_ENV", {}))
    env["CRYPTOHUB_PORT"] = str(port)
    env["PYTHONUNBUFFERED"] = "1"
    if infra is not None:
        env["NATS_URL"], env["DATABASE_URL"] = infra
    return env


async def _ready(system: System) -> None:
    async def up() -> bool:
        if system.process.poll() is not None:
            raise StepTimeoutError(f"cryptohub up exited:\n{system.log_tail()}")
        pids = {s["name"]: s["pid"] for s in system.state()["services"]}
        status = await system.get("/api/v1/status")
        return all(pids.get(name) for name in SERVICES) and bool(
            status["nats_connected"] and status["database_ready"]
        )

    await system.until(up, READY_WITHIN_S, "every service running, the gateway connected")


@pytest.fixture(scope="module")
def system(request: pytest.FixtureRequest) -> Iterator[System]:
    """`cryptohub up --replay` with every service, on free loopback ports, for one module."""
    external = bool(getattr(request.module, "EXTERNAL_INFRA", False))
    with private_tmp_dir("cryptohub-e2e-") as root, contextlib.ExitStack() as stack:
        nats_server = postgres = None
        infra = None
        if external:
            nats_server = EmbeddedNats(root / "nats").start()
            stack.callback(nats_server.stop)
            postgres = EmbeddedPostgres(root / "postgres", durable=False).start()
            stack.callback(postgres.stop)
            infra = (nats_server.url, postgres.dsn)
        port = free_port()
        log_path = root / "up.log"
        log = stack.enter_context(log_path.open("wb"))
        argv = [*CLI, "up", "--replay", str(RECORDED), "--data-dir", str(root / "data")]
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_environment(request.module, port, infra),
            cwd=root,
        )
        system = System(root / "data", port, process, log_path, nats_server, postgres)
        try:
            asyncio.run(_ready(system))
            system.watch_tree()
            yield system
        finally:
            if system.process.poll() is None and system.interrupt() is None:
                system.kill_everything()
            if system.leftovers():
                system.kill_everything()


@pytest.fixture
async def nc(system: System) -> AsyncIterator[NatsClient]:
    """A client of the system's NATS (reconnects by itself after a drill)."""
    client = await nats.connect(
        system.nats_url,
        connect_timeout=5,
        reconnect_time_wait=0.2,
        max_reconnect_attempts=-1,
        name="cryptohub-e2e-test",
    )
    try:
        yield client
    finally:
        await client.close()
