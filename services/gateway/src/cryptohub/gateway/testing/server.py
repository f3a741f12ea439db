"""A gateway served on loopback by the real HTTP server, for tests and benchmarks."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from cryptohub.gateway.app import create_app
from cryptohub.gateway.serve import make_server
from cryptohub.gateway.settings import GatewaySettings

__all__ = ["serve_gateway"]


@asynccontextmanager
async def serve_gateway(
    settings: GatewaySettings, *, ready_within: float = 20.0, wait_ready: bool = True
) -> AsyncIterator[str]:
    """Serve a gateway on loopback; yields its base URL once /readyz says ready."""
    app = create_app(settings)
    server = make_server(app, settings.host, settings.port, settings.server)
    task = asyncio.create_task(server.serve())
    base = f"http://{settings.host}:{settings.port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            deadline = asyncio.get_running_loop().time() + ready_within
            while True:
                if task.done():
                    task.result()  # raises what stopped it
                    raise RuntimeError("gateway stopped during start")
                try:
                    response = await client.get("/readyz" if wait_ready else "/healthz")
                    if response.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"gateway at {base} not ready within {ready_within}s")
                await asyncio.sleep(0.05)
        yield base
    finally:
        server.stop()
        try:
            await asyncio.wait_for(task, 15)
        except TimeoutError:
            task.cancel()
