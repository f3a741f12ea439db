"""The gateway as its own process for the benchmarks: started on loopback, awaited until ready.

Shared by bench/gateway_persist.py and bench/gateway_rest.py (scripts in this folder import it
as a sibling). `BENCH_PROFILE=/tmp/gw.prof` runs the gateway under cProfile.
"""

import asyncio
import os
import subprocess
import sys

import httpx


def start_gateway(nats_url: str, dsn: str, port: int, **settings: str) -> subprocess.Popen[bytes]:
    """`python -m cryptohub.gateway` on 127.0.0.1:`port`, rate limit off, warnings only;
    `settings` are further CRYPTOHUB_* variables (e.g. CRYPTOHUB_SERVER="uvicorn")."""
    env = {
        **os.environ,
        "CRYPTOHUB_NATS_URL": nats_url,
        "CRYPTOHUB_DATABASE_URL": dsn,
        "CRYPTOHUB_HOST": "127.0.0.1",
        "CRYPTOHUB_PORT": str(port),
        "CRYPTOHUB_LOG_LEVEL": "warning",
        "CRYPTOHUB_RATE_LIMIT_PER_MINUTE": "0",
        **settings,
    }
    prof = (
        ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
        if "BENCH_PROFILE" in os.environ
        else []
    )
    return subprocess.Popen([sys.executable, *prof, "-m", "cryptohub.gateway"], env=env)  # noqa: S603


async def wait_ready(base: str) -> None:
    """Until `/readyz` answers 200 (30 s at most)."""
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        for _ in range(600):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError("gateway not ready")
