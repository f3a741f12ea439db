"""Publishing events to JetStream once: a deterministic Nats-Msg-Id, retried with the same id."""

import asyncio
import logging
import random

import nats.errors
from faststream.nats import NatsBroker

from cryptohub.common.events import Event, ProviderAttempt, encode
from cryptohub.common.ids import message_id
from cryptohub.common.streams import stream_for_subject
from cryptohub.common.subjects import subject_for
from cryptohub.common.telemetry import metrics

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
_RETRYABLE = (nats.errors.TimeoutError, nats.errors.NoRespondersError, asyncio.TimeoutError)


class PublishError(Exception):
    """JetStream did not acknowledge an event after every retry."""

    def __init__(self, subject: str, msg_id: str, attempts: int, cause: str) -> None:
        super().__init__(
            f"publish to {subject} (id {msg_id}) failed after {attempts} tries: {cause}"
        )
        self.subject = subject
        self.msg_id = msg_id
        self.attempts = attempts


class EventPublisher:
    """Publishes events with their fact id as `Nats-Msg-Id`, so a retried publish or a second
    replica never stores the same fact twice within the stream's duplicate window."""

    def __init__(
        self,
        broker: NatsBroker,
        *,
        timeout: float = 5.0,
        max_attempts: int = 6,
        max_backoff: float = 2.0,
    ) -> None:
        self._broker = broker
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._rng = random.Random()

    async def publish(self, event: Event) -> bool:
        """Publish and wait for the JetStream ack; True if stored, False if it was a duplicate."""
        subject = subject_for(event)
        msg_id = message_id(event)
        payload = encode(event)
        stream = stream_for_subject(subject).name
        headers = {MSG_ID_HEADER: msg_id}
        for attempt in range(1, self._max_attempts + 1):
            try:
                ack = await self._broker.publish(
                    payload, subject, headers=headers, stream=stream, timeout=self._timeout
                )
            except _RETRYABLE as exc:
                if attempt == self._max_attempts:
                    raise PublishError(subject, msg_id, attempt, type(exc).__name__) from exc
                metrics.publish_retries.inc()
                delay = self._rng.uniform(0, min(self._max_backoff, 0.1 * 2**attempt))
                log.warning(
                    "publish to %s timed out (try %d); retrying with the same id", subject, attempt
                )
                await asyncio.sleep(delay)
                continue
            if ack.duplicate:
                metrics.events_duplicate.labels(subject).inc()
                return False
            metrics.events_published.labels(subject).inc()
            return True
        raise PublishError(
            subject, msg_id, self._max_attempts, "no attempt made"
        )  # max_attempts < 1


class AttemptPublisher:
    """The provider client's attempt sink: never blocks a provider call; a bounded queue drained
    in the background. When NATS is unreachable for long the oldest-pending are kept and new ones
    are dropped and counted (attempts are telemetry, not facts users query)."""

    def __init__(self, publisher: EventPublisher, *, max_pending: int = 10_000) -> None:
        self._publisher = publisher
        self._queue: asyncio.Queue[ProviderAttempt] = asyncio.Queue(max_pending)
        self._task: asyncio.Task[None] | None = None

    def __call__(self, attempt: ProviderAttempt) -> None:
        try:
            self._queue.put_nowait(attempt)
        except asyncio.QueueFull:
            metrics.attempts_dropped.inc()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="attempt-publisher")

    async def stop(self, flush_within: float = 5.0) -> None:
        """Flush what is queued (for at most `flush_within` seconds), then stop."""
        if self._task is None:
            return
        try:
            async with asyncio.timeout(flush_within):
                await self._queue.join()
        except TimeoutError:
            log.warning("%d provider attempts not published at shutdown", self._queue.qsize())
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _drain(self) -> None:
        while True:
            attempt = await self._queue.get()
            try:
                await self._publisher.publish(attempt)
            except PublishError:
                log.warning("dropped an attempt event of %s: NATS did not ack", attempt.provider)
                metrics.attempts_dropped.inc()
            finally:
                self._queue.task_done()
