"""Publishes a cycle's events to JetStream concurrently, counting what was stored and dropped."""

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from cryptohub.common.bus.publish import EventPublisher, PublishError
from cryptohub.common.events import Event

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Counts:
    stored: int = 0
    duplicates: int = 0  # JetStream already held the fact (another replica, or a retry)
    failed: int = 0


class Outbox:
    """Every publish goes through `EventPublisher` (deterministic `Nats-Msg-Id`); at most
    `concurrency` acks are awaited at once. A publish that fails after the publisher's retries is
    logged and counted, never raised: one lost event must not stop a collector."""

    def __init__(self, publisher: EventPublisher, *, concurrency: int = 64) -> None:
        self._publisher = publisher
        self._slots = asyncio.Semaphore(concurrency)
        self.counts = Counts()

    async def publish(self, events: Iterable[Event]) -> Counts:
        """Publish `events`; the counts of this batch."""
        batch = Counts()

        async def one(event: Event) -> None:
            async with self._slots:
                try:
                    stored = await self._publisher.publish(event)
                except PublishError as exc:
                    log.warning("event not published: %s", exc)
                    batch.failed += 1
                    return
            if stored:
                batch.stored += 1
            else:
                batch.duplicates += 1

        await asyncio.gather(*(one(e) for e in events))
        self.counts.stored += batch.stored
        self.counts.duplicates += batch.duplicates
        self.counts.failed += batch.failed
        return batch
