"""WebSocket fan-out of the gateway: publish-to-client latency under load, memory per connection.

Starts an embedded NATS and the real gateway process (`python -m cryptohub.gateway`, its default
server unless `--server`), without PostgreSQL. Then:

1. latency: `--clients` WebSocket clients (spread over `--procs` client processes) subscribe to
   `market.price.*`; real `PriceTick` events are published into JetStream at `--rate` per second,
   so each client receives `--rate` frames/s. Each tick's `received_at` is stamped just before
   its publish; a client's latency is its receive time minus that stamp (one clock).
2. hold: `--hold` clients connect and subscribe to `market.price.btc`; the gateway's RSS is read
   before and after (psutil), and one tick per second checks they are all still served.

Everything runs on this machine: the clients compete with the gateway and NATS for the CPU.
By hand: `.venv/bin/python bench/gateway_fanout.py [--clients 1000 --rate 20 --seconds 30
--hold 10000 --server granian|uvicorn]`.
"""

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import nats
import psutil
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.embedded.ports import free_port, port_accepts
from cryptohub.common.events import PriceTick, encode
from cryptohub.common.subjects import subject_for

SYMBOLS = ("btc", "eth", "sol", "bnb", "xrp", "ada", "doge", "dot", "avax", "link")


class _Data(msgspec.Struct):
    received_at: datetime | None = None


class _Frame(msgspec.Struct):
    type: str | None = None
    channel: str | None = None
    data: _Data | None = None


_decode = msgspec.json.Decoder(_Frame).decode


def raise_fd_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# --- client processes: websockets' sans-I/O protocol on a plain asyncio.Protocol, so that a
# client costs a few microseconds per frame and the clients leave the CPU to the gateway.


class _Client(asyncio.Protocol):
    """One WebSocket client: handshake, subscribe, answer pings, time each data frame."""

    def __init__(self, url: str, channel: str, shared: "_Shared") -> None:
        self.ws = ClientProtocol(parse_uri(url), max_size=None)
        self.channel = channel
        self.shared = shared
        self.transport: asyncio.Transport | None = None
        self.subscribed = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        data = self.ws.data_to_send()
        if data:
            self.transport.write(b"".join(data))

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        now = time.time()
        shared = self.shared
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    self.subscribed.set_exception(self.ws.handshake_exc)
                    continue
                self.ws.send_text(
                    f'{{"action":"subscribe","channels":["{self.channel}"]}}'.encode()
                )
                self.subscribed.set_result(None)
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                frame = _decode(event.data)
                if frame.type == "ping":
                    self.ws.send_text(b'{"action":"pong"}')
                elif frame.data is not None and frame.data.received_at is not None:
                    shared.frames += 1
                    if shared.record_after <= now:
                        shared.latencies.append(now - frame.data.received_at.timestamp())
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.shared.lost += 1
        if not self.subscribed.done():
            self.subscribed.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)


class _Shared:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.frames = 0
        self.lost = 0
        self.record_after = float("inf")


async def _connect_one(url: str, channel: str, shared: _Shared, gate: asyncio.Semaphore) -> _Client:
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    loop = asyncio.get_running_loop()
    async with gate:  # a bounded number of handshakes at once
        _, client = await loop.create_connection(
            lambda: _Client(url, channel, shared), host, int(port)
        )
        await asyncio.wait_for(client.subscribed, 60)
    return client


async def _worker_main(url: str, n: int, channel: str, start_q: Any, result_q: Any) -> None:
    shared = _Shared()
    gate = asyncio.Semaphore(50)
    try:
        clients = await asyncio.gather(
            *(_connect_one(url, channel, shared, gate) for _ in range(n))
        )
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        result_q.put(("error", repr(exc)))
        return
    result_q.put(("connected", n))
    record_after, stop_at = await asyncio.to_thread(start_q.get)
    shared.record_after = record_after
    await asyncio.sleep(max(0.0, stop_at - time.time()))
    lost = shared.lost
    for client in clients:
        if client.transport is not None:
            client.transport.abort()
    result_q.put(("latencies", shared.latencies, lost))


def _worker(url: str, n: int, channel: str, start_q: Any, result_q: Any) -> None:
    raise_fd_limit()
    asyncio.run(_worker_main(url, n, channel, start_q, result_q))


# --- the gateway process


def start_gateway(
    nats_url: str, port: int, server: str | None, profile: str | None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRYPTOHUB_NATS_URL": nats_url,
        "CRYPTOHUB_HOST": "127.0.0.1",
        "CRYPTOHUB_PORT": str(port),
        "CRYPTOHUB_PERSIST": "false",
        "CRYPTOHUB_LOG_LEVEL": "warning",
        "CRYPTOHUB_RATE_LIMIT_PER_MINUTE": "0",
        "CRYPTOHUB_WS__MAX_CONNECTIONS_PER_IP": "100000",
    }
    env.pop("DATABASE_URL", None)
    env.pop("CRYPTOHUB_DATABASE_URL", None)
    if server:
        env["CRYPTOHUB_SERVER"] = server
    command = [sys.executable, "-m", "cryptohub.gateway"]
    if profile:
        command[1:1] = ["-m", "cProfile", "-o", profile]
    proc = subprocess.Popen(command, env=env)  # noqa: S603 - this interpreter, our module
    deadline = time.monotonic() + 30
    while not port_accepts("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.1)
    time.sleep(1.0)  # lifespan: feed and hub started
    return proc


async def publish_ticks(
    nats_url: str, rate: float, seconds: float, symbols: tuple[str, ...]
) -> int:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    sent = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            target = start + sent / rate
            if target > time.monotonic():
                await asyncio.sleep(target - time.monotonic())
            now = datetime.now(UTC)
            tick = PriceTick(
                source="consensus",
                observed_at=now,
                received_at=now,
                symbol=symbols[sent % len(symbols)],
                price=100.0 + sent,
                volume_24h=1e9,
            )
            await js.publish(subject_for(tick), encode(tick))
            sent += 1
    finally:
        await nc.close()
    return sent


def run_phase(
    url: str,
    nats_url: str,
    gateway: psutil.Process,
    *,
    clients: int,
    procs: int,
    channel: str,
    rate: float,
    seconds: float,
    warmup: float,
    symbols: tuple[str, ...],
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start_q, result_q = ctx.Queue(), ctx.Queue()
    rss_before = gateway.memory_info().rss
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [
        ctx.Process(target=_worker, args=(url, n, channel, start_q, result_q)) for n in shares
    ]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    for _ in workers:
        kind, value = result_q.get(timeout=600)
        if kind == "error":
            raise RuntimeError(f"a client process failed: {value}")
    connect_s = time.monotonic() - t0
    time.sleep(2.0)
    rss_connected = gateway.memory_info().rss
    begin = time.time()
    for _ in workers:
        start_q.put((begin + warmup, begin + seconds + 2.0))
    gateway.cpu_percent(None)
    load_before = os.getloadavg()[0]
    sent = asyncio.run(publish_ticks(nats_url, rate, seconds, symbols))
    cpu = gateway.cpu_percent(None)
    load_after = os.getloadavg()[0]
    rss_loaded = gateway.memory_info().rss
    latencies: list[float] = []
    lost = 0
    for _ in workers:
        _, value, dropped_connections = result_q.get(timeout=120)
        latencies.extend(value)
        lost += dropped_connections
    for w in workers:
        w.join(30)
    latencies.sort()
    expected = int(clients * rate * (seconds - warmup))

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "clients": clients,
        "procs": procs,
        "rate": rate,
        "published": sent,
        "frames_measured": len(latencies),
        "frames_expected": expected,
        "p50_ms": pct(0.50) if latencies else None,
        "p90_ms": pct(0.90) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "max_ms": latencies[-1] * 1000 if latencies else None,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else None,
        "connections_lost_during_run": lost,
        "connect_s": connect_s,
        "gateway_cpu_pct": cpu,
        "load_avg_1m_before_after": f"{load_before:.1f} / {load_after:.1f}",
        "rss_before_mib": rss_before / 2**20,
        "rss_connected_mib": rss_connected / 2**20,
        "rss_loaded_mib": rss_loaded / 2**20,
        "rss_per_conn_kib": (rss_connected - rss_before) / clients / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s per client")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--procs", type=int, default=3, help="client processes (latency)")
    parser.add_argument("--hold", type=int, default=10_000, help="clients held (0: skip)")
    parser.add_argument("--hold-procs", type=int, default=4)
    parser.add_argument("--hold-seconds", type=float, default=15.0)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default=None)
    parser.add_argument("--profile", help="write the gateway's cProfile stats to this file")
    args = parser.parse_args()
    limit = raise_fd_limit()
    print(f"# gateway fan-out on {platform.node()}: {os.cpu_count()} CPUs, nofile {limit}")
    print(f"server: {args.server or 'the gateway default'}")
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        nats_server = EmbeddedNats(Path(tmp))
        nats_server.start()
        port = free_port()
        proc = start_gateway(nats_server.url, port, args.server, args.profile)
        url = f"ws://127.0.0.1:{port}/ws"
        try:
            gateway = psutil.Process(proc.pid)
            results = []
            if args.clients:
                results.append(
                    (
                        "latency",
                        run_phase(
                            url,
                            nats_server.url,
                            gateway,
                            clients=args.clients,
                            procs=args.procs,
                            channel="market.price.*",
                            rate=args.rate,
                            seconds=args.seconds,
                            warmup=args.warmup,
                            symbols=SYMBOLS,
                        ),
                    )
                )
            if args.hold:
                results.append(
                    (
                        "hold",
                        run_phase(
                            url,
                            nats_server.url,
                            gateway,
                            clients=args.hold,
                            procs=args.hold_procs,
                            channel="market.price.btc",
                            rate=1.0,
                            seconds=args.hold_seconds,
                            warmup=2.0,
                            symbols=("btc",),
                        ),
                    )
                )
        finally:
            proc.send_signal(signal.SIGINT)  # a clean exit (writes the profile, if any)
            proc.wait(30)
            nats_server.stop()
    for name, result in results:
        print(f"\n## {name}")
        for key, value in result.items():
            shown = f"{value:.2f}" if isinstance(value, float) else value
            print(f"- {key}: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
