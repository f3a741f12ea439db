"""Alert notifications to webhooks (generic JSON, Slack): queued, retried, never in the way."""

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

import httpx
import msgspec
from pydantic import SecretStr

from cryptohub.common.events import Alert, encode
from cryptohub.common.providers.backoff import backoff_delay, parse_retry_after
from cryptohub.common.providers.declaration import RetryPolicy
from cryptohub.health import metrics

__all__ = ["JsonWebhook", "Notifier", "Sink", "SlackWebhook"]

log = logging.getLogger(__name__)

# Answers worth another try; any other 4xx says the request itself is wrong.
_RETRYABLE_4XX: Final = frozenset({408, 425, 429})
_SLACK_ICON: Final = {
    "critical": ":red_circle:",
    "warning": ":warning:",
    "info": ":information_source:",
}


class Sink(Protocol):
    """Where alerts go: a name for logs and metrics, a secret URL, and the body it wants."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> SecretStr: ...

    def render(self, alert: Alert) -> tuple[bytes, dict[str, str]]: ...


def _idempotency_key(alert: Alert) -> str:
    return f"{alert.id}:{alert.state}"


@dataclass(frozen=True, slots=True)
class JsonWebhook:
    """POSTs the Alert event itself, as JSON (the schema in docs/events/alert.json)."""

    url: SecretStr
    name: str = "webhook"

    def render(self, alert: Alert) -> tuple[bytes, dict[str, str]]:
        headers = {"content-type": "application/json", "idempotency-key": _idempotency_key(alert)}
        return encode(alert), headers


@dataclass(frozen=True, slots=True)
class SlackWebhook:
    """POSTs `{"text": ...}`, what Slack (and Mattermost, Rocket.Chat) incoming webhooks take."""

    url: SecretStr
    name: str = "slack"

    def render(self, alert: Alert) -> tuple[bytes, dict[str, str]]:
        if alert.state == "resolved":
            icon, head = ":white_check_mark:", f"RESOLVED {alert.rule}"
        else:
            icon, head = _SLACK_ICON[alert.severity], f"{alert.severity.upper()} {alert.rule}"
        text = f"{icon} *{head}*: {alert.message} (`{alert.id}`)"
        headers = {"content-type": "application/json", "idempotency-key": _idempotency_key(alert)}
        return msgspec.json.encode({"text": text}), headers


class _Lane:
    """One sink's bounded queue and the task that drains it."""

    def __init__(self, sink: Sink, size: int) -> None:
        self.sink = sink
        self.queue: asyncio.Queue[Alert] = asyncio.Queue(size)
        self.task: asyncio.Task[None] | None = None


class Notifier:
    """Sends every alert event to every sink. `notify` never waits: each sink has its own
    bounded queue and task, so a slow or failing receiver delays only itself, and a full queue
    drops (and counts) what does not fit."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        http: httpx.AsyncClient,
        *,
        queue_size: int = 1000,
        retry: RetryPolicy | None = None,
        timeout: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self._lanes = [_Lane(sink, queue_size) for sink in sinks]
        self._http = http
        self._retry = retry or RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=30.0)
        self._timeout = timeout
        self._rng = rng or random.Random()

    @property
    def sinks(self) -> list[str]:
        return [lane.sink.name for lane in self._lanes]

    def notify(self, alert: Alert) -> None:
        for lane in self._lanes:
            try:
                lane.queue.put_nowait(alert)
            except asyncio.QueueFull:
                metrics.notifications.labels(lane.sink.name, "dropped").inc()
                log.warning("%s sink: queue full, alert %s not sent", lane.sink.name, alert.id)

    def start(self) -> None:
        for lane in self._lanes:
            if lane.task is None:
                lane.task = asyncio.create_task(self._drain(lane), name=f"notify-{lane.sink.name}")

    async def stop(self, flush_within: float = 5.0) -> None:
        """Send what is queued (for at most `flush_within` seconds), then stop."""
        running = [lane for lane in self._lanes if lane.task is not None]
        try:
            async with asyncio.timeout(flush_within):
                await asyncio.gather(*(lane.queue.join() for lane in running))
        except TimeoutError:
            left = sum(lane.queue.qsize() for lane in running)
            log.warning("%d alert notifications not sent at shutdown", left)
        for lane in running:
            assert lane.task is not None  # noqa: S101 (filtered above)
            lane.task.cancel()
        await asyncio.gather(*(lane.task for lane in running if lane.task), return_exceptions=True)
        for lane in running:
            lane.task = None

    async def _drain(self, lane: _Lane) -> None:
        while True:
            alert = await lane.queue.get()
            try:
                await self._deliver(lane.sink, alert)
            except Exception:
                log.exception("%s sink: could not send alert %s", lane.sink.name, alert.id)
                metrics.notifications.labels(lane.sink.name, "failed").inc()
            finally:
                lane.queue.task_done()

    async def _deliver(self, sink: Sink, alert: Alert) -> None:
        body, headers = sink.render(alert)
        url = sink.url.get_secret_value()
        retry = self._retry
        for attempt in range(1, retry.max_attempts + 1):
            retry_after: float | None = None
            try:
                response = await self._http.post(
                    url, content=body, headers=headers, timeout=self._timeout
                )
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                problem = type(exc).__name__  # its text may hold the URL, a secret
            else:
                status = response.status_code
                if 200 <= status < 300:
                    metrics.notifications.labels(sink.name, "delivered").inc()
                    log.info("%s sink: sent alert %s (%s)", sink.name, alert.id, alert.state)
                    return
                problem = f"HTTP {status}"
                if status < 500 and status not in _RETRYABLE_4XX:
                    break
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"),
                    now=datetime.now(UTC),
                    cap=retry.max_retry_after,
                )
            if attempt == retry.max_attempts:
                break
            delay = max(backoff_delay(attempt, retry, self._rng), retry_after or 0.0)
            metrics.notifications.labels(sink.name, "retried").inc()
            log.warning(
                "%s sink: %s for alert %s (try %d); retrying in %.2fs",
                sink.name,
                problem,
                alert.id,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
        metrics.notifications.labels(sink.name, "failed").inc()
        log.error("%s sink: gave up on alert %s: %s", sink.name, alert.id, problem)
