"""Serves the ASGI app in this process and event loop: granian (default) or uvicorn."""

import logging
from typing import Literal, Protocol

from litestar import Litestar

__all__ = ["HttpServer", "make_server"]

log = logging.getLogger(__name__)


class HttpServer(Protocol):
    async def serve(self) -> None: ...

    def stop(self) -> None: ...


class _Granian:
    def __init__(self, app: Litestar, host: str, port: int) -> None:
        from granian.constants import Interfaces
        from granian.server.embed import Server

        self._server = Server(
            app,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            websockets=True,
            backlog=2048,
            log_enabled=False,
        )

    async def serve(self) -> None:
        await self._server.serve()

    def stop(self) -> None:
        self._server.stop()  # type: ignore[no-untyped-call]


class _Uvicorn:
    def __init__(self, app: Litestar, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="on",
            log_config=None,
            access_log=False,
            backlog=2048,
            ws_max_size=64 * 1024,
            # Frames are encoded once for all subscribers; per-connection compression would
            # redo that work for every client.
            ws_per_message_deflate=False,
        )
        self._server = uvicorn.Server(config)

    async def serve(self) -> None:
        # uvicorn installs its own SIGINT/SIGTERM handlers while serving; ours call stop().
        await self._server.serve()

    def stop(self) -> None:
        self._server.should_exit = True


def make_server(
    app: Litestar, host: str, port: int, kind: Literal["granian", "uvicorn"]
) -> HttpServer:
    """A server for `app` on host:port; `await serve()` runs it (lifespan included)."""
    if kind == "uvicorn":
        return _Uvicorn(app, host, port)
    return _Granian(app, host, port)
