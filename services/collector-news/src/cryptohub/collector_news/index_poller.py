"""The Fear & Greed index: its whole history on first start, then each new daily value once.

"First start" is read from the stream itself: no `sentiment.index.fear_greed` message in
SENTIMENT means nothing was ever published, so the history is fetched and published oldest
first. Afterwards only values newer than the last one published go out; the current value is
polled with a conditional GET, and a day's value is never published twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

import msgspec
import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from cryptohub.collector_news import metrics
from cryptohub.collector_news.providers.fear_greed import (
    INDEX_NAME,
    IndexBatch,
    fng_request,
    parse_fng,
)
from cryptohub.common import subjects
from cryptohub.common.bus.publish import EventPublisher, PublishError
from cryptohub.common.events import SentimentIndex, decode_as
from cryptohub.common.providers import (
    ParseContext,
    ProviderClient,
    ProviderError,
    ProviderStates,
)
from cryptohub.common.streams import SENTIMENT

__all__ = ["IndexPollResult", "IndexPoller", "last_published"]

log = logging.getLogger(__name__)

IndexPollStatus: TypeAlias = Literal[
    "backfilled", "ok", "not_modified", "failed", "skipped_offline"
]


@dataclass(slots=True)
class IndexPollResult:
    status: IndexPollStatus
    published: int = 0
    error: str | None = None


async def last_published(js: JetStreamContext, name: str = INDEX_NAME) -> datetime | None:
    """When the newest value of index `name` in the stream was true; None if there is none."""
    try:
        message = await js.get_last_msg(SENTIMENT.name, subjects.sentiment_index(name))
    except NotFoundError:
        return None
    if not message.data:
        return None
    try:
        return decode_as(message.data, SentimentIndex).observed_at
    except (msgspec.DecodeError, ValueError):
        log.warning("the last %s message is unreadable; treating the index as new", name)
        return None


class IndexPoller:
    """Publishes the Fear & Greed index: history once, then the current value when it changes."""

    def __init__(
        self,
        client: ProviderClient,
        *,
        publisher: EventPublisher,
        js: JetStreamContext,
        states: ProviderStates,
        history_limit: int = 0,
    ) -> None:
        self._client = client
        self._publisher = publisher
        self._js = js
        self._states = states
        self._history_limit = history_limit
        # None until the stream was asked; True until a whole history has been published.
        self._backfilling: bool | None = None
        self._last: datetime | None = None
        self.parses = 0

    def _parse(self, body: bytes, ctx: ParseContext) -> IndexBatch:
        self.parses += 1
        metrics.parses.labels(self._client.name).inc()
        return parse_fng(body, ctx)

    async def poll_once(self) -> IndexPollResult:
        name = self._client.name
        if self._states.state_of(name) == "offline":
            metrics.polls.labels(name, "skipped_offline").inc()
            return IndexPollResult("skipped_offline")
        try:
            if self._backfilling is None:
                self._last = await last_published(self._js)
                self._backfilling = self._last is None
            backfill = self._backfilling
            if backfill:
                batch: IndexBatch | None = await self._client.fetch(
                    fng_request(self._history_limit), self._parse
                )
            else:
                batch = await self._client.fetch_if_modified(fng_request(1), self._parse)
        except ProviderError as error:
            metrics.polls.labels(name, "failed").inc()
            log.warning("%s: poll failed: %s", name, error)
            return IndexPollResult("failed", error=str(error))
        except (nats.errors.Error, TimeoutError) as error:
            metrics.polls.labels(name, "failed").inc()
            log.warning("%s: cannot read the last published value: %r", name, error)
            return IndexPollResult("failed", error=repr(error))
        if batch is None:
            metrics.polls.labels(name, "not_modified").inc()
            return IndexPollResult("not_modified")
        metrics.polls.labels(name, "ok").inc()
        for kind, count in batch.anomalies.items():
            metrics.anomalies.labels(name, kind).inc(count)
        result = IndexPollResult("backfilled" if backfill else "ok")
        for value in batch.values:
            if self._last is not None and value.observed_at <= self._last:
                continue
            try:
                stored = await self._publisher.publish(value)
            except PublishError as error:
                log.warning("%s: %s; will retry on the next poll", name, error)
                result.error = str(error)
                break
            outcome = "published" if stored else "already_published"
            metrics.index_values.labels(value.name, outcome).inc()
            result.published += int(stored)
            self._last = value.observed_at
        if backfill and result.error is None:
            self._backfilling = False
            log.info("%s: Fear & Greed history published (%d values)", name, result.published)
        return result
