"""Health throughput, by hand: `.venv/bin/python services/health/bench/throughput.py`.

Measures (1) the pure monitor alone, (2) the service end to end on an embedded NATS: a backlog
of attempts consumed, judged, KV written and acked, and (3) the window rebuild at a restart.
"""

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats

from cryptohub.common import subjects
from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.events import ProviderAttempt, encode
from cryptohub.common.ids import message_id
from cryptohub.common.streams import PROVIDER
from cryptohub.common.subjects import subject_for
from cryptohub.health.app import create_service
from cryptohub.health.monitor import Monitor
from cryptohub.health.settings import Settings

PROVIDERS = 50
ATTEMPTS = 50_000
RUNS = 3


def attempts(n: int, start: datetime) -> list[ProviderAttempt]:
    out = []
    for i in range(n):
        at = start + timedelta(microseconds=i * 20)
        ok = i % 7 != 0
        out.append(
            ProviderAttempt(
                provider=f"prov{i % PROVIDERS}",
                endpoint="price",
                ok=ok,
                status=200 if ok else 503,
                latency_ms=float(20 + i % 300),
                error_kind=None if ok else "http_5xx",
                error=None if ok else "HTTP 503",
                source="bench",
                observed_at=at,
                received_at=at,
            )
        )
    return out


def bench_monitor() -> float:
    rates = []
    for _ in range(RUNS):
        now = datetime.now(UTC)
        batch = attempts(ATTEMPTS, now)
        monitor = Monitor(Settings().monitor_config(), started_at=now)
        t0 = time.perf_counter()
        for a in batch:
            monitor.observe(a, now)
        rates.append(ATTEMPTS / (time.perf_counter() - t0))
    return statistics.median(rates)


async def publish_backlog(url: str, batch: list[ProviderAttempt]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    futures = [
        await js.publish_async(
            subject_for(a), encode(a), headers={"Nats-Msg-Id": message_id(a)}, wait_stall=5
        )
        for a in batch
    ]
    await asyncio.gather(*futures)
    await nc.close()


async def bench_service(url: str, run: int) -> tuple[float, float]:
    settings = Settings(
        nats_url=url,
        log_json=False,
        health_consumer=f"bench{run}",
        health_state_bucket=f"ps_bench{run}",
        health_memory_bucket=f"hm_bench{run}",
        health_window_s=600.0,
    )
    broker = create_broker(settings)
    await broker.connect()
    await prepare_jetstream(broker.connection)
    await publish_backlog(url, attempts(ATTEMPTS, datetime.now(UTC)))
    js = broker.connection.jetstream()
    async with httpx.AsyncClient() as http:
        service = await create_service(settings, broker, http)
        t0 = time.perf_counter()
        await service.start()
        while True:
            info = await js.consumer_info(PROVIDER.name, settings.health_consumer)
            if not info.num_pending and not info.num_ack_pending:
                break
            await asyncio.sleep(0.01)
        live = ATTEMPTS / (time.perf_counter() - t0)
        await service.stop()
        # A restart rebuilds every window from the stream (all of it is within the lookback).
        service = await create_service(settings, broker, http)
        t1 = time.perf_counter()
        await service.start()
        rebuild = time.perf_counter() - t1
        await service.stop()
    await broker.stop()
    await js_purge(url)
    return live, rebuild


async def js_purge(url: str) -> None:
    nc = await nats.connect(url)
    await nc.jetstream().purge_stream(PROVIDER.name)
    await nc.close()


async def bench_raw_pull(url: str) -> float:
    """The floor: the same backlog pulled in batches of 500 and acked, doing nothing else."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await publish_backlog(url, attempts(ATTEMPTS, datetime.now(UTC)))
    sub = await js.pull_subscribe(
        subjects.all_provider_attempts(), durable="raw", stream=PROVIDER.name
    )
    t0 = time.perf_counter()
    seen = 0
    while seen < ATTEMPTS:
        msgs = await sub.fetch(500, timeout=2)
        seen += len(msgs)
        for msg in msgs:
            await msg.ack()
    rate = ATTEMPTS / (time.perf_counter() - t0)
    await js.delete_consumer(PROVIDER.name, "raw")
    await js.purge_stream(PROVIDER.name)
    await nc.close()
    return rate


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main() -> None:
    say(f"pure monitor: {bench_monitor():,.0f} attempts/s (median of {RUNS})")
    with tempfile.TemporaryDirectory() as folder:
        server = EmbeddedNats(Path(folder))
        server.start()
        try:
            results = [await bench_service(server.url, run) for run in range(RUNS)]
            raw = statistics.median([await bench_raw_pull(server.url) for _ in range(RUNS)])
        finally:
            server.stop()
    live = statistics.median(r[0] for r in results)
    rebuild = statistics.median(r[1] for r in results)
    say(f"raw pull(500) + ack, same backlog: {raw:,.0f} msg/s")
    say(f"service, backlog of {ATTEMPTS:,} attempts, {PROVIDERS} providers: {live:,.0f} attempts/s")
    say(f"restart with {ATTEMPTS:,} attempts to replay: ready in {rebuild:.2f}s")


if __name__ == "__main__":
    asyncio.run(main())
