"""One factory for the FastStream NATS broker every service uses."""

import logging
from typing import Any

from faststream import AckPolicy
from faststream.nats import NatsBroker
from nats.aio.client import Client

from cryptohub.common.settings import ServiceSettings
from cryptohub.common.streams import ensure_kv, ensure_streams
from cryptohub.common.telemetry.tracing import configure_tracing, nats_tracing_middleware

log = logging.getLogger(__name__)

# nats-py gives up after 60 reconnect attempts by default; a service must outlive any outage.
RECONNECT_FOREVER = -1


def create_broker(settings: ServiceSettings, **overrides: Any) -> NatsBroker:
    """A broker that reconnects forever, nacks (redelivers) on handler errors unless a subscriber
    says otherwise, and traces across NATS when tracing is on."""
    tracer = configure_tracing(settings.service, settings.otel_exporter, settings.otel_endpoint)
    middlewares = [nats_tracing_middleware(tracer)] if tracer is not None else []
    options: dict[str, Any] = {
        "name": f"cryptohub-{settings.service}",
        "allow_reconnect": True,
        "max_reconnect_attempts": RECONNECT_FOREVER,
        "reconnect_time_wait": 1,
        "connect_timeout": 5,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "middlewares": middlewares,
        "disconnected_cb": _on_disconnect,
        "reconnected_cb": _on_reconnect,
        "logger": logging.getLogger(f"cryptohub.{settings.service}.broker"),
    }
    options.update(overrides)
    return NatsBroker(settings.nats_url, **options)


async def prepare_jetstream(connection: Client) -> None:
    """Create or update every stream and the provider_state bucket; safe to run from any service."""
    js = connection.jetstream()
    changed = await ensure_streams(js)
    await ensure_kv(js)
    if changed:
        log.info("JetStream streams created or updated: %s", ", ".join(changed))


async def _on_disconnect() -> None:
    log.warning("disconnected from NATS; reconnecting")


async def _on_reconnect() -> None:
    log.info("reconnected to NATS")
