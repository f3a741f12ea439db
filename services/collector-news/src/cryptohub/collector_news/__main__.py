"""Entry point: `cryptohub run collector-news` or `python -m cryptohub.collector_news`."""

import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from cryptohub.collector_news.app import run
from cryptohub.collector_news.settings import Settings
from cryptohub.common.telemetry.logs import configure_logging
from cryptohub.common.telemetry.metrics import serve_metrics

log = logging.getLogger(__name__)


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, stop)
    log.info("collector-news stopped")


def main() -> int:
    configure_logging("collector-news")
    try:
        settings = Settings()
    except ValidationError as exc:
        log.error("invalid settings: %s", exc)
        return 2
    configure_logging(settings.service, settings.log_level, json=settings.log_json)
    serve_metrics(settings.metrics_port)
    asyncio.run(_serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
