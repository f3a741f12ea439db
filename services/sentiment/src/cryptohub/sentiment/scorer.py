"""One article in; its ArticleSentiment and its assets' AssetSentiment out, once per model."""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptohub.common.bus.publish import EventPublisher
from cryptohub.common.events import Article, ArticleSentiment, AssetSentiment
from cryptohub.sentiment import metrics
from cryptohub.sentiment.assets import AssetWindows
from cryptohub.sentiment.batcher import Batcher
from cryptohub.sentiment.routing import ModelRouter
from cryptohub.sentiment.scored import ScoredArticles
from cryptohub.sentiment.text import article_text
from cryptohub.sentiment.windows import Contribution, aggregate

__all__ = ["SOURCE", "ArticleScorer", "AssetPublisher", "Outcome", "WindowSpec"]

log = logging.getLogger(__name__)

SOURCE = "sentiment"

Outcome = Literal["scored", "already_scored"]


@dataclass(frozen=True, slots=True)
class WindowSpec:
    name: Literal["1h", "24h"]
    length: timedelta
    half_life: timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


class AssetPublisher:
    """Publishes an asset's 1h and 24h AssetSentiment from its recent contributions."""

    def __init__(
        self, publisher: EventPublisher, windows: tuple[WindowSpec, ...], *, threshold: float
    ) -> None:
        self._publisher = publisher
        self._windows = windows
        self._threshold = threshold

    @property
    def retention(self) -> timedelta:
        """How far back an article still counts in some window."""
        return max((w.length for w in self._windows), default=timedelta())

    def events(
        self, symbol: str, contributions: list[Contribution], *, now: datetime
    ) -> list[AssetSentiment]:
        events = []
        for window in self._windows:
            result = aggregate(
                contributions,
                now=now,
                window=window.length,
                half_life=window.half_life,
                threshold=self._threshold,
            )
            events.append(
                AssetSentiment(
                    source=SOURCE,
                    observed_at=now,
                    received_at=utc_now(),
                    symbol=symbol,
                    window=window.name,
                    score=result.score,
                    label=result.label,
                    article_count=result.article_count,
                    confidence=result.confidence,
                )
            )
        return events

    async def publish(
        self, symbol: str, contributions: list[Contribution], *, now: datetime
    ) -> list[AssetSentiment]:
        events = self.events(symbol, contributions, now=now)
        for event in events:
            await self._publisher.publish(event)
        return events


class ArticleScorer:
    """Scores with the model the router picks, unless that model version scored it before.

    Order, so that a crash anywhere is repaired by JetStream's redelivery: publish the
    ArticleSentiment (deterministic Nats-Msg-Id), add it to each tagged asset's window (the
    same article replaces itself), publish the assets' sentiment, then mark it scored. The
    caller acks the message after this returns.
    """

    def __init__(
        self,
        *,
        router: ModelRouter,
        batchers: Mapping[int, Batcher],
        publisher: EventPublisher,
        scored: ScoredArticles,
        assets: AssetWindows,
        asset_publisher: AssetPublisher,
        max_chars: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._router = router
        self._batchers = batchers
        self._publisher = publisher
        self._scored = scored
        self._assets = assets
        self._asset_publisher = asset_publisher
        self._max_chars = max_chars
        self._clock = clock
        self._retention = asset_publisher.retention

    def model_name(self, article: Article) -> str:
        """The model that scores `article`."""
        return self._router.model_for(article).name

    async def handle(self, article: Article) -> Outcome:
        """Raises RejectedArticleError for an article with nothing to read; other errors
        (NATS, the model) leave the message to be redelivered."""
        model = self._router.model_for(article)
        if await self._scored.seen(article.id, model.name, model.revision):
            metrics.articles.labels(model.name, "already_scored").inc()
            log.debug("article %s already scored by %s %s", article.id, model.name, model.revision)
            return "already_scored"
        text = article_text(article, max_chars=self._max_chars)
        if text.truncated:
            metrics.truncated.inc()
        prediction = await self._batchers[id(model)].predict(text.text)
        result = ArticleSentiment(
            source=SOURCE,
            observed_at=article.observed_at,
            received_at=self._clock(),
            article_id=article.id,
            model=model.name,
            model_revision=model.revision,
            label=prediction.label,
            score=prediction.score,
            probabilities=prediction.probabilities,
        )
        await self._publisher.publish(result)
        now = self._clock()
        if now - article.observed_at < self._retention:
            contribution = Contribution(
                article_id=article.id,
                published_at=article.observed_at,
                score=prediction.score,
                confidence=prediction.confidence,
            )
            for symbol in dict.fromkeys(article.symbols):
                window = await self._assets.add(symbol, contribution, now=now)
                await self._asset_publisher.publish(symbol, window, now=now)
        await self._scored.mark(result)
        metrics.articles.labels(model.name, "scored").inc()
        return "scored"
