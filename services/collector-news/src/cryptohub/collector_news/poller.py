"""Polls one article source on its interval: conditional GET, parse, dedupe, publish."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from cryptohub.collector_news import metrics
from cryptohub.collector_news.dedupe import ArticleGate
from cryptohub.collector_news.normalise import Batch
from cryptohub.common.bus.publish import EventPublisher, PublishError
from cryptohub.common.providers import (
    ParseContext,
    ParseFn,
    ProviderClient,
    ProviderError,
    ProviderStates,
    Request,
)

__all__ = ["ArticlePoller", "PollResult", "Source", "run_every"]

log = logging.getLogger(__name__)

PollStatus: TypeAlias = Literal["ok", "not_modified", "failed", "skipped_offline"]
PollFn: TypeAlias = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Source:
    """One thing to poll: a provider client, the request, and the parse of its answer."""

    name: str
    client: ProviderClient
    request: Request
    parse: ParseFn[Batch]
    interval: float


@dataclass(slots=True)
class PollResult:
    status: PollStatus
    published: int = 0
    duplicates: int = 0
    refused: int = 0
    error: str | None = None
    verdicts: dict[str, int] = field(default_factory=dict)


class ArticlePoller:
    """Polls `source` and publishes each new story once. Never raises from a poll: a provider
    failure, a bad body or a NATS outage is logged, counted and retried on the next round."""

    def __init__(
        self,
        source: Source,
        *,
        gate: ArticleGate,
        publisher: EventPublisher,
        states: ProviderStates,
    ) -> None:
        self.source = source
        self._gate = gate
        self._publisher = publisher
        self._states = states
        self.parses = 0

    def _parse(self, body: bytes, ctx: ParseContext) -> Batch:
        self.parses += 1
        metrics.parses.labels(self.source.name).inc()
        return self.source.parse(body, ctx)

    async def poll_once(self) -> PollResult:
        name = self.source.name
        if self._states.state_of(self.source.client.name) == "offline":
            metrics.polls.labels(name, "skipped_offline").inc()
            return PollResult("skipped_offline")
        try:
            batch = await self.source.client.fetch_if_modified(self.source.request, self._parse)
        except ProviderError as error:
            metrics.polls.labels(name, "failed").inc()
            if error.kind in ("parse", "invalid_data"):
                metrics.anomalies.labels(name, "unreadable_body").inc()
            log.warning("%s: poll failed: %s", name, error)
            return PollResult("failed", error=str(error))
        if batch is None:
            metrics.polls.labels(name, "not_modified").inc()
            log.debug("%s: not modified", name)
            return PollResult("not_modified")
        metrics.polls.labels(name, "ok").inc()
        for kind, count in batch.anomalies.items():
            metrics.anomalies.labels(name, kind).inc(count)
        result = PollResult("ok", refused=sum(batch.anomalies.values()))
        await self._publish(batch, result)
        log.info(
            "%s: %d new, %d duplicates, %d anomalies",
            name,
            result.published,
            result.duplicates,
            result.refused,
        )
        return result

    async def _publish(self, batch: Batch, result: PollResult) -> None:
        name = self.source.name
        for article in sorted(batch.articles, key=lambda a: a.observed_at):
            verdict = await self._gate.admit(article)
            outcome: str = verdict
            if verdict == "new":
                try:
                    stored = await self._publisher.publish(article)
                except PublishError as error:
                    await self._gate.release(article)
                    metrics.articles.labels(name, "publish_failed").inc()
                    log.warning("%s: %s; will retry on the next poll", name, error)
                    result.error = str(error)
                    break
                outcome = "published" if stored else "duplicate_event"
            if outcome == "published":
                result.published += 1
            else:
                result.duplicates += 1
            result.verdicts[outcome] = result.verdicts.get(outcome, 0) + 1
            metrics.articles.labels(name, outcome).inc()


async def run_every(
    interval: float,
    poll: PollFn,
    stop: asyncio.Event,
    *,
    name: str,
    rng: random.Random | None = None,
    first_delay: float = 0.0,
) -> None:
    """Call `poll` every `interval` seconds (±10 % jitter) until `stop` is set."""
    rng = rng or random.Random()
    delay = first_delay
    while True:
        try:
            async with asyncio.timeout(delay):
                await stop.wait()
            return
        except TimeoutError:
            pass
        try:
            await poll()
        except asyncio.CancelledError:
            raise
        except Exception:  # a poller must outlive any bug in one round
            log.exception("%s: poll crashed; trying again next round", name)
        delay = interval * rng.uniform(0.9, 1.1)
