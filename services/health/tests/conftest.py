"""Health on the session's embedded NATS: a harness that starts, stops and restarts the service,
publishes attempts the way collectors do, and reads back KV, status events and alerts."""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from cryptohub.common import subjects
from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.bus.publish import EventPublisher
from cryptohub.common.events import (
    Alert,
    ErrorKind,
    ProviderAttempt,
    ProviderStateRecord,
    ProviderStatusChange,
    RateLimitSeen,
    decode,
    decode_as,
)
from cryptohub.common.settings import ServiceSettings
from cryptohub.common.streams import ALERTS, PROVIDER
from cryptohub.health.app import create_service
from cryptohub.health.service import HealthService
from cryptohub.health.settings import Settings

FAST: dict[str, Any] = {
    "health_window_calls": 10,
    "health_window_s": 60.0,
    "health_min_calls": 4,
    "health_degraded_error_rate": 0.25,
    "health_offline_error_rate": 0.5,
    "health_degraded_consecutive_failures": 2,
    "health_offline_consecutive_failures": 4,
    "health_cooldown_s": 0.6,
    "health_half_open_successes": 2,
    "health_tick_s": 0.05,
    "health_state_refresh_s": 0.0,
    "health_alert_group_wait_s": 0.2,
    "health_stale_after_s": 3600.0,
    "health_degraded_alert_after_s": 3600.0,
    "health_notify_backoff_s": 0.05,
    "health_notify_max_backoff_s": 0.2,
    "log_json": False,
}


def name(prefix: str = "p") -> str:
    """A provider or category name no other test uses."""
    return f"{prefix}{secrets.token_hex(4)}"


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polls what another process writes
            await asyncio.sleep(0.03)


async def stored(js: JetStreamContext, subject: str, stream: str) -> list[Any]:
    """Every event the stream holds on `subject`, oldest first."""
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, mem_storage=True, inactive_threshold=5),
    )
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        msgs = []
        while len(msgs) < pending:
            msgs += await sub.fetch(pending - len(msgs), timeout=2)
    finally:
        await sub.unsubscribe()
    return [decode(m.data) for m in msgs]


class Harness:
    """Health as a process would run it, on its own buckets and durable consumer."""

    def __init__(self, js: JetStreamContext, settings: Settings, attempts: EventPublisher) -> None:
        self.js = js
        self.settings = settings
        self.service: HealthService | None = None
        self._attempts = attempts
        self._broker: NatsBroker | None = None
        self._http: httpx.AsyncClient | None = None
        self._last = datetime.now(UTC)

    async def start(self) -> HealthService:
        self._broker = create_broker(self.settings)
        await self._broker.connect()
        await prepare_jetstream(self._broker.connection)
        self._http = httpx.AsyncClient()
        self.service = await create_service(self.settings, self._broker, self._http)
        await self.service.start()
        async with asyncio.timeout(10):
            await self.service.ready.wait()
        return self.service

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
            self.service = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None

    async def send(
        self,
        provider: str,
        marks: str,
        *,
        kind: ErrorKind = "http_5xx",
        rate_limit: RateLimitSeen | None = None,
    ) -> None:
        """One attempt per mark, as the provider client publishes them: `+` ok, `-` failed
        (`kind`), `!` a 429."""
        for mark in marks:
            now = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
            self._last = now
            failed = mark != "+"
            error_kind: ErrorKind | None = "rate_limited" if mark == "!" else kind
            await self._attempts.publish(
                ProviderAttempt(
                    provider=provider,
                    endpoint="price",
                    ok=not failed,
                    status=(429 if mark == "!" else 503) if failed else 200,
                    latency_ms=30.0 if not failed else 250.0,
                    error_kind=error_kind if failed else None,
                    error=("HTTP 429" if mark == "!" else "HTTP 503") if failed else None,
                    rate_limit=rate_limit,
                    source="test-collector",
                    observed_at=now,
                    received_at=now,
                )
            )

    async def record(self, provider: str) -> ProviderStateRecord | None:
        kv = await self.js.key_value(self.settings.health_state_bucket)
        try:
            entry = await kv.get(provider)
        except NotFoundError:
            return None
        return decode_as(entry.value, ProviderStateRecord) if entry.value else None

    async def wait_state(self, provider: str, state: str, within: float = 10.0) -> None:
        async def reached() -> bool:
            record = await self.record(provider)
            return record is not None and record.state == state

        await eventually(reached, within)

    async def statuses(self, provider: str) -> list[tuple[str, str]]:
        events = await stored(self.js, subjects.provider_status(provider), PROVIDER.name)
        assert all(isinstance(e, ProviderStatusChange) for e in events)
        return [(e.previous, e.current) for e in events]

    async def alerts(self, target: str) -> list[Alert]:
        """Alerts stored for a provider or a category."""
        events = await stored(self.js, subjects.all_alerts(), ALERTS.name)
        return [e for e in events if isinstance(e, Alert) and target in (e.provider, e.category)]

    async def wait_alerts(self, target: str, count: int, within: float = 10.0) -> list[Alert]:
        found: list[Alert] = []

        async def enough() -> bool:
            nonlocal found
            found = await self.alerts(target)
            return len(found) >= count

        await eventually(enough, within)
        return found

    async def cleanup(self) -> None:
        await self.stop()
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(PROVIDER.name, self.settings.health_consumer)
        for bucket in (self.settings.health_state_bucket, self.settings.health_memory_bucket):
            with contextlib.suppress(NotFoundError):
                await self.js.delete_key_value(bucket)


@pytest.fixture
async def attempts(nats_url: str) -> AsyncIterator[EventPublisher]:
    """What a collector uses to publish attempts."""
    broker = create_broker(ServiceSettings(service="test-collector", nats_url=nats_url))
    await broker.connect()
    try:
        await prepare_jetstream(broker.connection)
        yield EventPublisher(broker, timeout=2.0)
    finally:
        await broker.stop()


@pytest.fixture
async def make_health(
    js: JetStreamContext, nats_url: str, attempts: EventPublisher
) -> AsyncIterator[Callable[..., Harness]]:
    """`make_health(*providers, **settings)`: a harness with test-fast settings, watching only
    `providers` (other tests' attempts share the session's stream), cleaned up after."""
    made: list[Harness] = []

    def make(*providers: str, **overrides: Any) -> Harness:
        tag = secrets.token_hex(4)
        settings = Settings(
            nats_url=nats_url,
            health_providers=providers,
            health_consumer=f"health_{tag}",
            health_state_bucket=f"ps_{tag}",
            health_memory_bucket=f"hm_{tag}",
            **{**FAST, **overrides},
        )
        harness = Harness(js, settings, attempts)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.cleanup()
