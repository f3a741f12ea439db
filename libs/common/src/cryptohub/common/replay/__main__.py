"""Run the replay server until Ctrl-C / SIGTERM: `python -m cryptohub.common.replay --dir DIR`."""

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from cryptohub.common.replay.routes import RouteTable, RouteTableError, load_routes
from cryptohub.common.replay.server import ReplayServer
from cryptohub.common.telemetry.logs import configure_logging

log = logging.getLogger("cryptohub.common.replay")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("replay", args.log_level)
    try:
        routes = load_routes(args.dir)
    except RouteTableError as exc:
        log.error("cannot load the route table: %s", exc)
        return 2
    asyncio.run(_serve(routes, args.host, args.port))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cryptohub.common.replay",
        description="Serve recorded provider bodies at http://HOST:PORT/{provider}/{path}.",
    )
    parser.add_argument(
        "--dir", type=Path, default=Path("fixtures/providers"), help="holds routes.json"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099, help="0 picks a free port")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    return parser


async def _serve(routes: RouteTable, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ReplayServer(routes, host=host, port=port) as server:
        log.info("providers: %s", ", ".join(sorted(routes.providers())))
        log.info("control API: %s/_replay/health", server.url)
        await stop.wait()


if __name__ == "__main__":
    raise SystemExit(main())
