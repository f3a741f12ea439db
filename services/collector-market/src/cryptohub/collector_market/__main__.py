"""Entry point: `cryptohub run collector-market` or `python -m cryptohub.collector_market`."""

import asyncio
import logging
import signal

from cryptohub.collector_market.app import open_collector
from cryptohub.collector_market.settings import Settings
from cryptohub.common.telemetry.logs import configure_logging
from cryptohub.common.telemetry.metrics import serve_metrics

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    """Collect until SIGTERM or SIGINT, then close everything cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_collector(settings) as collector:
        log.info("collector-market started: %d schedules", len(collector.schedules))
        await collector.run(stop)
    log.info("collector-market stopped")


def main() -> int:
    settings = Settings()
    configure_logging(settings.service, settings.log_level, json=settings.log_json)
    serve_metrics(settings.metrics_port)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
