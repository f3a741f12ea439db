"""Wiring: NATS, the dedupe bucket, provider clients and one scheduled poller per source."""

import asyncio
import logging
import random
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import httpx
from faststream.nats import NatsBroker

from cryptohub.collector_news.dedupe import ArticleGate, ensure_dedupe_bucket
from cryptohub.collector_news.index_poller import IndexPoller, IndexPollResult
from cryptohub.collector_news.poller import ArticlePoller, PollResult, run_every
from cryptohub.collector_news.settings import Settings
from cryptohub.collector_news.sources import build_sources, fear_greed_client
from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.bus.publish import AttemptPublisher, EventPublisher
from cryptohub.common.providers import KvProviderStates
from cryptohub.common.streams import ensure_kv

__all__ = ["NewsCollector", "run"]

log = logging.getLogger(__name__)


class NewsCollector:
    """The running service: `async with NewsCollector(settings) as c: await c.run_until(stop)`.

    `environ` stands in for `os.environ` when resolving provider base URLs and keys.
    """

    def __init__(self, settings: Settings, *, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self._environ = environ
        self.broker: NatsBroker = create_broker(settings)
        self.pollers: list[ArticlePoller] = []
        self.index: IndexPoller | None = None
        self.gate: ArticleGate | None = None
        self._attempts: AttemptPublisher | None = None
        self._states: KvProviderStates | None = None
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        settings = self.settings
        connection = await self.broker.connect()
        await prepare_jetstream(connection)
        js = connection.jetstream()
        publisher = EventPublisher(self.broker, timeout=settings.publish_timeout_s)
        self._attempts = AttemptPublisher(publisher)
        self._attempts.start()
        self._states = KvProviderStates(await ensure_kv(js))
        await self._states.start()
        bucket = await ensure_dedupe_bucket(js, settings.dedupe_bucket, settings.dedupe_ttl)
        self.gate = ArticleGate(
            bucket,
            title_window=settings.title_window,
            similarity=settings.title_similarity,
            keep=settings.dedupe_ttl,
        )
        await self.gate.start()
        self._http = httpx.AsyncClient(follow_redirects=True, max_redirects=5)
        sources = build_sources(
            settings, self._http, attempts=self._attempts, environ=self._environ
        )
        self.pollers = [
            ArticlePoller(source, gate=self.gate, publisher=publisher, states=self._states)
            for source in sources
        ]
        if settings.fear_greed_enabled:
            client = fear_greed_client(
                self._http, attempts=self._attempts, environ=self._environ, service=settings.service
            )
            self.index = IndexPoller(
                client,
                publisher=publisher,
                js=js,
                states=self._states,
                history_limit=settings.fear_greed_history_limit,
            )
        log.info(
            "collecting from %d sources%s",
            len(self.pollers),
            " and Fear & Greed" if self.index else "",
        )

    async def poll_all_once(self) -> list[PollResult | IndexPollResult]:
        """One round of every source, in turn (for tests and one-shot runs)."""
        results: list[PollResult | IndexPollResult] = [await p.poll_once() for p in self.pollers]
        if self.index is not None:
            results.append(await self.index.poll_once())
        return results

    async def run_until(self, stop: asyncio.Event) -> None:
        """Poll every source on its own interval until `stop` is set."""
        rng = random.Random()
        spread = self.settings.first_poll_spread_s
        tasks = [
            asyncio.create_task(
                run_every(
                    p.source.interval,
                    p.poll_once,
                    stop,
                    name=p.source.name,
                    rng=rng,
                    first_delay=rng.uniform(0, spread),
                ),
                name=f"poll-{p.source.name}",
            )
            for p in self.pollers
        ]
        if self.index is not None:
            tasks.append(
                asyncio.create_task(
                    run_every(
                        self.settings.fear_greed_interval_s, self.index.poll_once, stop, name="fng"
                    ),
                    name="poll-fear-greed",
                )
            )
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                await _cancel(task)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self.gate is not None:
            await self.gate.stop()
        if self._states is not None:
            await self._states.stop()
        if self._attempts is not None:
            await self._attempts.stop()
            self._attempts = None
        await self.broker.stop()


async def run(
    settings: Settings, stop: asyncio.Event, *, environ: Mapping[str, str] | None = None
) -> None:
    """Run the collector until `stop` is set. While NATS cannot be reached the start waits for
    it (the broker reconnects forever), and `stop` still ends the wait."""
    collector = NewsCollector(settings, environ=environ)
    starting = asyncio.create_task(collector.start(), name="collector-news-start")
    stopping = asyncio.create_task(stop.wait(), name="collector-news-stop")
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            log.info("stopped before NATS could be reached")
            return
        starting.result()
        await collector.run_until(stop)
    finally:
        for task in (starting, stopping):
            await _cancel(task)
        await collector.stop()


async def _cancel(task: asyncio.Task[object]) -> None:
    """Cancel `task` and wait for it, cancelling again if a cancellation was swallowed: on
    Python 3.11 `asyncio.wait_for` (which nats-py's connect uses) can lose one that lands just as
    its inner call completes."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if not task.cancelled() and task.exception() is not None:
        log.debug("task %s ended with %r", task.get_name(), task.exception())
