"""Wiring: settings in, a running health service out (broker, KV, feed, notifier, monitor)."""

import asyncio
import logging
from datetime import timedelta

import httpx
from faststream.nats import NatsBroker

from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.bus.publish import EventPublisher
from cryptohub.common.providers.declaration import RetryPolicy
from cryptohub.common.secrets import register_secret
from cryptohub.health.feed import AttemptFeed
from cryptohub.health.monitor import Monitor
from cryptohub.health.notify import JsonWebhook, Notifier, Sink, SlackWebhook
from cryptohub.health.service import Clock, HealthService, Timing, utc_now
from cryptohub.health.settings import Settings
from cryptohub.health.store import StateStore

__all__ = ["create_notifier", "create_service", "run"]

log = logging.getLogger(__name__)


def create_notifier(settings: Settings, http: httpx.AsyncClient) -> Notifier:
    """The sinks the settings configure (none: alerts are only published on NATS)."""
    sinks: list[Sink] = []
    if settings.health_webhook_url is not None:
        register_secret(settings.health_webhook_url.get_secret_value())
        sinks.append(JsonWebhook(settings.health_webhook_url))
    if settings.health_slack_webhook_url is not None:
        register_secret(settings.health_slack_webhook_url.get_secret_value())
        sinks.append(SlackWebhook(settings.health_slack_webhook_url))
    retry = RetryPolicy(
        max_attempts=settings.health_notify_max_attempts,
        base_delay=settings.health_notify_backoff_s,
        max_delay=settings.health_notify_max_backoff_s,
        max_retry_after=settings.health_notify_max_backoff_s,
    )
    return Notifier(
        sinks,
        http,
        queue_size=settings.health_notify_queue,
        retry=retry,
        timeout=settings.health_notify_timeout_s,
    )


async def create_service(
    settings: Settings, broker: NatsBroker, http: httpx.AsyncClient, *, clock: Clock = utc_now
) -> HealthService:
    """A health service on a connected broker; `start()` it."""
    js = broker.connection.jetstream()
    store = await StateStore.open(
        js, state_bucket=settings.health_state_bucket, memory_bucket=settings.health_memory_bucket
    )
    return HealthService(
        Monitor(settings.monitor_config(), started_at=clock()),
        AttemptFeed(
            js,
            durable=settings.health_consumer,
            batch=settings.health_batch,
            providers=settings.health_providers,
        ),
        store,
        EventPublisher(broker, timeout=settings.publish_timeout_s),
        create_notifier(settings, http),
        source=settings.service,
        timing=Timing(
            tick=timedelta(seconds=settings.health_tick_s),
            refresh=timedelta(seconds=settings.health_state_refresh_s),
            lookback=timedelta(seconds=settings.health_window_s),
            notify_flush_within=settings.health_notify_flush_s,
        ),
        clock=clock,
    )


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Run health until `stop` is set."""
    broker = create_broker(settings)
    await broker.connect()
    try:
        await prepare_jetstream(broker.connection)
        async with httpx.AsyncClient() as http:
            service = await create_service(settings, broker, http)
            await service.start()
            log.info("health running")
            try:
                await stop.wait()
            finally:
                await service.stop()
    finally:
        await broker.stop()
