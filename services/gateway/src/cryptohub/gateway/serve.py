"""Serves the ASGI app in this process and event loop: granian (default) or uvicorn.

Neither server configures logging of its own here: their loggers (granian's `_granian`, fed by
its Rust side too, and `granian.access`; uvicorn's `uvicorn.error` and `uvicorn.access`) have no
handlers and propagate to the root handler of `configure_logging`, so their lines are JSON (or
plain) like every other line of the service. Access lines are off unless `access_log`.
"""

import logging
from typing import Any, Literal, Protocol

from litestar import Litestar

__all__ = ["HttpServer", "make_server"]

log = logging.getLogger(__name__)


class HttpServer(Protocol):
    async def serve(self) -> None: ...

    def stop(self) -> None: ...


# granian merges this into its default dictConfig (a shallow update), replacing its stdout
# handlers and formatters. `incremental` leaves every existing handler (ours) as it is and only
# sets the two loggers' levels and `propagate`; granian then sets `_granian`'s level itself.
_GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "incremental": True,
    "formatters": {},
    "handlers": {},
    "loggers": {
        "_granian": {"propagate": True},
        "granian.access": {"propagate": True},
    },
}
# Its default format starts with its own local time; our lines carry `ts` already.
_GRANIAN_ACCESS_FORMAT = '%(addr)s - "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f'


class _Granian:
    def __init__(self, app: Litestar, host: str, port: int, level: str, access_log: bool) -> None:
        from granian.constants import Interfaces
        from granian.log import LogLevels
        from granian.server.embed import Server

        self._server = Server(
            app,
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            websockets=True,
            backlog=2048,
            log_enabled=True,
            log_level=LogLevels(level.lower()),
            log_dictconfig=_GRANIAN_LOGGING,
            log_access=access_log,
            log_access_format=_GRANIAN_ACCESS_FORMAT,
        )

    async def serve(self) -> None:
        await self._server.serve()

    def stop(self) -> None:
        self._server.stop()  # type: ignore[no-untyped-call]


class _DropColorMessage(logging.Filter):
    """uvicorn adds an ANSI-coloured copy of some messages as an extra; a JSON line needs one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


class _Uvicorn:
    def __init__(self, app: Litestar, host: str, port: int, access_log: bool) -> None:
        import uvicorn

        error_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _DropColorMessage) for f in error_log.filters):
            error_log.addFilter(_DropColorMessage())
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="on",
            # None: uvicorn installs no handler and leaves levels to the root logger.
            log_config=None,
            access_log=access_log,
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
    app: Litestar,
    host: str,
    port: int,
    kind: Literal["granian", "uvicorn"],
    *,
    log_level: str = "info",
    access_log: bool = False,
) -> HttpServer:
    """A server for `app` on host:port; `await serve()` runs it (lifespan included).

    Its log lines go through the root logger (see the module docstring); `log_level` is the
    service's, which granian needs spelled out (uvicorn's loggers inherit the root's).
    """
    if kind == "uvicorn":
        return _Uvicorn(app, host, port, access_log)
    return _Granian(app, host, port, log_level, access_log)
