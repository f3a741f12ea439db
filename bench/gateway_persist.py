"""Gateway persistence: sustained events/s from JetStream into PostgreSQL, and the lag under load.

One machine: an embedded NATS (JetStream, file store) and an embedded PostgreSQL (durable: fsync
on), the gateway as its own process (`python -m cryptohub.gateway`, one event loop), and this
script publishing. Two phases:

1. backlog: N events are stored in JetStream first, then the gateway starts and drains them;
   events/s = N / time from the gateway's start until the last row is committed;
2. steady: events published at a fixed rate for a while; every second the consumer's
   unprocessed count and the gateway's `cryptohub_gateway_persist_lag_seconds` are sampled.

The mix is what a busy deployment carries: mostly price ticks (100 symbols x 5 sources),
candles and provider attempts. By hand: `.venv/bin/python bench/gateway_persist.py [N] [RATE]`.
Figures go in services/gateway/README.md. `BENCH_PROFILE=/tmp/gw.prof` profiles the gateway
(cProfile).
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil
from gateway_process import start_gateway, wait_ready  # a sibling in bench/

from cryptohub.common.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from cryptohub.common.events import Candle, Event, PriceTick, ProviderAttempt, encode
from cryptohub.common.ids import message_id
from cryptohub.common.streams import STREAMS, ensure_streams, stream_for_subject
from cryptohub.common.subjects import subject_for

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
RATE = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
STEADY_S = 20
SOURCES = ("consensus", "binance", "coingecko", "kraken", "coinbase")
T0 = datetime(2026, 11, 21, tzinfo=UTC)

Wire = tuple[str, bytes, dict[str, str], str]


def make_events(count: int, offset: int = 0) -> list[Wire]:
    """`count` distinct events, 85 % ticks, 10 % candles, 5 % attempts, ready to publish."""
    wires: list[Wire] = []
    for i in range(offset, offset + count):
        moment = T0 + timedelta(microseconds=i)
        symbol = f"s{i % 100}"
        kind = i % 20
        event: Event
        if kind < 17:
            event = PriceTick(
                symbol=symbol,
                price=100.0 + i % 1000,
                source=SOURCES[i % 5],
                observed_at=moment,
                received_at=moment,
                volume_24h=1e9,
                market_cap=1e10,
                contributors=("binance", "coingecko") if i % 5 == 0 else (),
            )
        elif kind < 19:
            event = Candle(
                symbol=symbol,
                interval="1m",
                open_time=moment,
                open=1.0,
                high=2.0,
                low=0.5,
                close=1.5,
                volume=10.0,
                is_final=True,
                source="binance",
                observed_at=moment,
                received_at=moment,
            )
        else:
            event = ProviderAttempt(
                provider=SOURCES[1 + i % 4],
                endpoint="/api/v3/ticker",
                ok=True,
                status=200,
                latency_ms=42.0,
                source=SOURCES[1 + i % 4],
                observed_at=moment,
                received_at=moment,
            )
        subject = subject_for(event)
        wires.append(
            (
                subject,
                encode(event),
                {"Nats-Msg-Id": message_id(event)},
                stream_for_subject(subject).name,
            )
        )
    return wires


async def publish_all(js: nats.js.JetStreamContext, wires: list[Wire]) -> None:
    for start in range(0, len(wires), 2000):
        futures = [
            await js.publish_async(subject, payload, headers=dict(headers), stream=stream)
            for subject, payload, headers, stream in wires[start : start + 2000]
        ]
        await asyncio.gather(*futures)


async def stored(conn: asyncpg.Connection) -> int:
    value = await conn.fetchval(
        "SELECT (SELECT count(*) FROM price_ticks) + (SELECT count(*) FROM candles)"
        " + (SELECT count(*) FROM provider_attempts)"
    )
    return int(value)


async def wait_stored(conn: asyncpg.Connection, target: int, *, every: float) -> int:
    """Poll until at least `target` events are stored; how many there are."""
    while True:
        count = await stored(conn)
        if count >= target:
            return count
        await asyncio.sleep(every)


async def lag_metric(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    lags = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('cryptohub_gateway_persist_lag_seconds{stream="MARKET"')
    ]
    return max(lags, default=float("nan"))


async def pending(js: nats.js.JetStreamContext) -> int:
    total = 0
    for spec in STREAMS:
        info = await js.consumer_info(spec.name, "gateway-persist")
        total += info.num_pending + info.num_ack_pending
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its children so far."""
    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def cpu_report(before: dict[str, float], pids: dict[str, int], events: int) -> str:
    used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    parts = ", ".join(f"{name} {sec:.1f} CPU-s" for name, sec in used.items())
    return f"{parts}; gateway {events / used['gateway']:,.0f} events per CPU-second"


async def main() -> None:
    with (
        tempfile.TemporaryDirectory() as nats_dir,
        tempfile.TemporaryDirectory(prefix="bench-pg-") as pg_dir,
    ):
        os.chmod(pg_dir, 0o755)  # noqa: S103 - PostgreSQL runs as its own user when we are root
        server = EmbeddedNats(Path(nats_dir)).start()
        pg = EmbeddedPostgres(Path(pg_dir), durable=True).start()
        gateway: subprocess.Popen[bytes] | None = None
        try:
            nc = await nats.connect(server.url, max_reconnect_attempts=1)
            js = nc.jetstream(publish_async_max_pending=4000)
            await ensure_streams(js)
            backlog = make_events(N)
            t = time.perf_counter()
            await publish_all(js, backlog)
            print(f"published {N} events into JetStream in {time.perf_counter() - t:.1f}s")

            port = free_port()
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            gateway = start_gateway(server.url, pg.dsn, port)
            pids = {"gateway": gateway.pid, "nats": server.pid or 0, "postgres": pg.pid or 0}
            await wait_ready(base)
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            ready_at = time.perf_counter()
            conn = await asyncpg.connect(pg.dsn)
            count = await wait_stored(conn, N, every=0.25)
            drained = time.perf_counter() - started
            print(
                f"backlog: {count} events stored in {drained:.1f}s "
                f"(gateway start included) = {N / drained:,.0f} events/s; "
                f"{N / (time.perf_counter() - ready_at):,.0f} events/s once ready"
            )
            print(f"backlog CPU: {cpu_report(before, pids, N)}")
            print(
                f"machine load average while running: {os.getloadavg()[0]:.1f} on "
                f"{os.cpu_count()} cores"
            )

            steady = make_events(RATE * STEADY_S, offset=N)
            lags: list[float] = []
            backlog_samples: list[int] = []
            async with httpx.AsyncClient(base_url=base, timeout=5) as client:
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                began = time.perf_counter()
                tick_s = 0.05
                per_tick = int(RATE * tick_s)
                next_sample = began + 1
                for i in range(0, len(steady), per_tick):
                    await publish_all(js, steady[i : i + per_tick])
                    now = time.perf_counter()
                    if now >= next_sample:
                        lags.append(await lag_metric(client))
                        backlog_samples.append(await pending(js))
                        next_sample += 1
                    delay = began + (i // per_tick + 1) * tick_s - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                sent_in = time.perf_counter() - began
                await wait_stored(conn, N + len(steady), every=0.1)
                caught_up = time.perf_counter() - began
            print(
                f"steady: {len(steady)} events offered at {len(steady) / sent_in:,.0f}/s "
                f"(target {RATE:,}/s); all stored {caught_up - sent_in:.2f}s after the last "
                f"publish; lag p50 {statistics.median(lags):.3f}s max {max(lags):.3f}s; "
                f"unacked p50 {statistics.median(backlog_samples):,.0f} "
                f"max {max(backlog_samples):,}"
            )
            print(f"steady CPU: {cpu_report(before, pids, len(steady))} (live feed included)")
            await conn.close()
            await nc.close()
        finally:
            if gateway is not None:
                gateway.terminate()
                gateway.wait(20)
            pg.stop()
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
