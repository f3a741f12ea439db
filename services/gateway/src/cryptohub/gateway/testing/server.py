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
    settings: GatewaySettings,
    *,
    ready_within: float = 20.0,
    wait_ready: bool = True,
    stop_within: float = 15.0,
) -> AsyncIterator[str]:
    """Serve a gateway on loopback; yields its base URL once /readyz says ready.

    On exit the gateway is stopped; one that does not finish shutting down within
    `stop_within` seconds raises RuntimeError (a shutdown bug, never to be hidden).
    """
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
        stopping = asyncio.timeout(stop_within)
        try:
            async with stopping:
                await task
        except TimeoutError as exc:
            if not stopping.expired():
                raise  # the server's own error
            # Fail here, loudly: going on would leave the lifespan (Runtime.stop) running on a
            # loop about to close, to surface as "Task was destroyed" errors somewhere later.
            raise RuntimeError(
                f"gateway at {base} did not shut down within {stop_within}s"
            ) from exc
