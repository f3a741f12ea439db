"""create_app(settings): wires NATS, PostgreSQL, the live feed, persistence, REST and WebSocket."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from nats.aio.client import Client

from cryptohub.gateway import api
from cryptohub.gateway.api.problems import exception_handlers
from cryptohub.gateway.api.security import RateLimitMiddleware
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.settings import GatewaySettings
from cryptohub.gateway.ws import WebSocketHub

__all__ = ["create_app"]


def create_app(settings: GatewaySettings, *, nats_client: Client | None = None) -> Litestar:
    """The gateway as an ASGI app; connects to NATS and PostgreSQL in its lifespan."""
    nc = nats_client or Client()
    runtime = Runtime(settings, nc)
    hub = WebSocketHub(settings.ws, runtime.live, runtime.js)
    runtime.feed.add_listener(hub.on_feed)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await runtime.start()
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await runtime.stop()

    return Litestar(
        route_handlers=[
            *api.route_handlers(read_keys=bool(settings.read_api_keys)),
            *hub.route_handlers(),
        ],
        dependencies={"runtime": Provide(lambda: runtime, use_cache=True, sync_to_thread=False)},
        lifespan=[lifespan],
        middleware=[RateLimitMiddleware(settings)] if settings.rate_limit_per_minute > 0 else [],
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)),
        exception_handlers=exception_handlers(),
        openapi_config=OpenAPIConfig(
            title="CryptoHub gateway",
            version="1.0.0",
            description=api.DESCRIPTION,
            path="/schema",
            render_plugins=[ScalarRenderPlugin(path="/docs"), SwaggerRenderPlugin(path="/swagger")],
        ),
        state=api.app_state(runtime, hub),
        # Logging is configured once in main() (JSON lines, masked); Litestar must not replace it.
        logging_config=None,
        debug=False,
    )
