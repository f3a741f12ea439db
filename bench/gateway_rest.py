"""Gateway REST: `GET /api/v1/prices` requests/s and latency percentiles on one worker.

One machine: embedded NATS and PostgreSQL, the gateway as its own process (one event loop, the
HTTP server named on the command line), consensus prices of 20 assets published so the live
state holds them, then `wrk` (apt-get install wrk) on loopback. The rate limit is off for the
run (one client would hit it at once). By hand:
`.venv/bin/python bench/gateway_rest.py [granian|uvicorn] [seconds] [connections]`.
Figures go in services/gateway/README.md. `BENCH_PROFILE=/tmp/gw.prof` profiles the gateway
(cProfile).
"""

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
from gateway_process import start_gateway, wait_ready  # a sibling in bench/

from cryptohub.common.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from cryptohub.common.events import PriceTick, encode
from cryptohub.common.ids import message_id
from cryptohub.common.streams import ensure_streams
from cryptohub.common.subjects import subject_for

SERVER = sys.argv[1] if len(sys.argv) > 1 else "granian"
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 15
CONNECTIONS = int(sys.argv[3]) if len(sys.argv) > 3 else 64
SYMBOLS = [f"c{i:02d}" for i in range(20)]


async def seed(nats_url: str, base: str) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js)
    now = datetime.now(UTC)
    for i, symbol in enumerate(SYMBOLS):
        tick = PriceTick(
            symbol=symbol,
            price=100.0 + i,
            source="consensus",
            observed_at=now,
            received_at=now,
            volume_24h=1e9,
            market_cap=1e10 + i,
            change_24h_pct=-1.5,
            contributors=("binance", "coingecko", "kraken"),
            spread_pct=0.05,
            confidence=0.9,
        )
        await js.publish(subject_for(tick), encode(tick), headers={"Nats-Msg-Id": message_id(tick)})
    await nc.close()
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(200):
            if (await client.get("/api/v1/prices")).json()["count"] == len(SYMBOLS):
                return
            await asyncio.sleep(0.05)
    raise TimeoutError("prices not served")


def run_wrk(url: str) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    result = subprocess.run(  # noqa: S603
        [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def summary(label: str, out: str) -> str:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (
        f"{label}: {float(rps[1]) if rps else 0:,.0f} req/s, p50 {pct.get('50')}, "
        f"p90 {pct.get('90')}, p99 {pct.get('99')}; non-2xx {errors[1] if errors else 0}"
    )


async def main() -> None:
    with (
        tempfile.TemporaryDirectory() as nats_dir,
        tempfile.TemporaryDirectory(prefix="bench-pg-") as pg_dir,
    ):
        os.chmod(pg_dir, 0o755)  # noqa: S103 - PostgreSQL runs as its own user when we are root
        server = EmbeddedNats(Path(nats_dir)).start()
        pg = EmbeddedPostgres(Path(pg_dir), durable=False).start()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gateway = start_gateway(server.url, pg.dsn, port, CRYPTOHUB_SERVER=SERVER)
        try:
            await wait_ready(base)
            await seed(server.url, base)
            run_wrk(f"{base}/api/v1/prices")  # warm-up, not reported
            print(
                f"server {SERVER}, {CONNECTIONS} connections, {SECONDS}s, "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            all_prices = run_wrk(f"{base}/api/v1/prices")
            print(summary(f"GET /api/v1/prices ({len(SYMBOLS)} assets)", all_prices))
            one = run_wrk(f"{base}/api/v1/prices?symbols={SYMBOLS[0]}")
            print(summary("GET /api/v1/prices?symbols=<one>", one))
            health = run_wrk(f"{base}/healthz")
            print(summary("GET /healthz", health))
        finally:
            gateway.terminate()
            gateway.wait(20)
            pg.stop()
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
