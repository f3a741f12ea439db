"""Wiring: broker, streams, buckets, models, batchers, scorer, consumer and refresher."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from types import TracebackType

from faststream.nats import NatsBroker

from cryptohub.common.bus import broker as bus
from cryptohub.common.bus.publish import EventPublisher
from cryptohub.sentiment.assets import AssetWindows
from cryptohub.sentiment.batcher import Batcher
from cryptohub.sentiment.buckets import ASSETS_TTL, SCORED_TTL, ensure_bucket
from cryptohub.sentiment.consumer import ArticleConsumer, consumer_config, ensure_consumer
from cryptohub.sentiment.refresh import AssetRefresher
from cryptohub.sentiment.routing import ModelRouter, load_models
from cryptohub.sentiment.scored import ScoredArticles
from cryptohub.sentiment.scorer import ArticleScorer, AssetPublisher, WindowSpec
from cryptohub.sentiment.settings import Settings

__all__ = ["SentimentApp"]

log = logging.getLogger(__name__)


def _windows(settings: Settings) -> tuple[WindowSpec, ...]:
    return (
        WindowSpec("1h", timedelta(hours=1), timedelta(seconds=settings.sentiment_half_life_1h_s)),
        WindowSpec(
            "24h", timedelta(hours=24), timedelta(seconds=settings.sentiment_half_life_24h_s)
        ),
    )


class SentimentApp:
    """`async with SentimentApp(settings) as app: await app.run(stop)`; `router` replaces the
    configured models (loading them is the slow part of a start)."""

    def __init__(self, settings: Settings, *, router: ModelRouter | None = None) -> None:
        self.settings = settings
        self.router = router
        self.broker: NatsBroker = bus.create_broker(settings)
        self._batchers: dict[int, Batcher] = {}
        self._consumer: ArticleConsumer | None = None
        self._refresher: AssetRefresher | None = None

    async def __aenter__(self) -> "SentimentApp":
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        s = self.settings
        if self.router is None:
            self.router = await asyncio.to_thread(load_models, s)
        await self.broker.connect()
        connection = self.broker.connection
        await bus.prepare_jetstream(connection)
        js = connection.jetstream()
        scored = ScoredArticles(await ensure_bucket(js, s.sentiment_scored_bucket, ttl=SCORED_TTL))
        assets = AssetWindows(await ensure_bucket(js, s.sentiment_assets_bucket, ttl=ASSETS_TTL))
        publisher = EventPublisher(self.broker, timeout=s.publish_timeout_s)
        asset_publisher = AssetPublisher(
            publisher, _windows(s), threshold=s.sentiment_label_threshold
        )
        self._batchers = {
            id(model): Batcher(
                model,
                max_batch=s.sentiment_batch_size,
                max_wait=s.sentiment_batch_wait_ms / 1000,
            )
            for model in self.router.models()
        }
        scorer = ArticleScorer(
            router=self.router,
            batchers=self._batchers,
            publisher=publisher,
            scored=scored,
            assets=assets,
            asset_publisher=asset_publisher,
            max_chars=s.sentiment_max_chars,
        )
        await ensure_consumer(
            js,
            consumer_config(
                s.sentiment_consumer,
                ack_wait=s.sentiment_ack_wait_s,
                max_ack_pending=max(s.sentiment_max_in_flight * 4, 256),
                backfill=timedelta(hours=s.sentiment_backfill_hours),
                now=datetime.now(UTC),
            ),
        )
        self._consumer = ArticleConsumer(
            js,
            scorer,
            durable=s.sentiment_consumer,
            fetch_batch=s.sentiment_fetch_batch,
            max_in_flight=s.sentiment_max_in_flight,
        )
        self._refresher = AssetRefresher(assets, asset_publisher, period_s=s.sentiment_refresh_s)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume and refresh until `stop` is set."""
        if self._consumer is None or self._refresher is None:
            raise RuntimeError("SentimentApp.run() before start()")
        log.info("sentiment consuming news articles as %s", self.settings.sentiment_consumer)
        await asyncio.gather(self._consumer.run(stop), self._refresher.run(stop))

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
        await self.broker.stop()
