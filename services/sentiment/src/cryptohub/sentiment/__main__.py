"""Run the sentiment service: `cryptohub run sentiment` or `python -m cryptohub.sentiment`."""

import asyncio
import logging
import signal

import nats.errors

from cryptohub.common.telemetry.logs import configure_logging
from cryptohub.common.telemetry.metrics import serve_metrics
from cryptohub.sentiment.app import SentimentApp
from cryptohub.sentiment.errors import ModelUnavailableError
from cryptohub.sentiment.settings import Settings

log = logging.getLogger(__name__)


async def _serve(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SentimentApp(settings) as app:
            await app.run(stop)
    except ModelUnavailableError as exc:  # only with CRYPTOHUB_SENTIMENT_BACKEND=bert
        log.error("cannot start: %s", exc)
        return 2
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        log.error("cannot reach NATS at start (%s: %s)", type(exc).__name__, exc)
        return 1
    log.info("sentiment stopped")
    return 0


def main() -> int:
    settings = Settings()
    configure_logging(settings.service, settings.log_level, json=settings.log_json)
    serve_metrics(settings.metrics_port)
    return asyncio.run(_serve(settings))


if __name__ == "__main__":
    raise SystemExit(main())
