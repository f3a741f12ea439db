"""`cryptohub run health`: logging, metrics, then the service until SIGINT/SIGTERM."""

import asyncio
import signal

from cryptohub.common.telemetry.logs import configure_logging
from cryptohub.common.telemetry.metrics import serve_metrics
from cryptohub.health.app import run
from cryptohub.health.settings import Settings


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, stop)


def main() -> int:
    settings = Settings()
    configure_logging(settings.service, settings.log_level, json=settings.log_json)
    serve_metrics(settings.metrics_port)
    asyncio.run(_serve(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
