"""The durable JetStream consumer on news.article that every replica shares."""

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Final

import msgspec
import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError, NotFoundError

from cryptohub.common import subjects
from cryptohub.common.bus.publish import PublishError
from cryptohub.common.events import Article, decode_as
from cryptohub.common.streams import NEWS
from cryptohub.sentiment import metrics
from cryptohub.sentiment.assets import ConflictError
from cryptohub.sentiment.errors import RejectedArticleError
from cryptohub.sentiment.scorer import ArticleScorer

__all__ = ["ArticleConsumer", "consumer_config", "ensure_consumer"]

log = logging.getLogger(__name__)

_MAX_DELIVER: Final = 5
_RETRY_DELAY_S: Final = 5.0
_FETCH_TIMEOUT_S: Final = 1.0
_DRAIN_S: Final = 10.0


def consumer_config(
    name: str, *, ack_wait: float, max_ack_pending: int, backfill: timedelta, now: datetime
) -> ConsumerConfig:
    """Explicit acks; on first creation it starts `backfill` back in NEWS (so the asset
    windows are full at once), afterwards it resumes where the replicas left off."""
    start = (
        {"deliver_policy": DeliverPolicy.BY_START_TIME, "opt_start_time": now - backfill}
        if backfill > timedelta()
        else {"deliver_policy": DeliverPolicy.NEW}
    )
    return ConsumerConfig(
        name=name,
        durable_name=name,
        description="cryptohub sentiment: scores every news article once",
        filter_subject=subjects.news_article(),
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=_MAX_DELIVER,
        max_ack_pending=max_ack_pending,
        **start,
    )


async def ensure_consumer(js: JetStreamContext, config: ConsumerConfig) -> None:
    """Create the durable consumer unless it exists; replicas racing to create it are fine."""
    name = config.durable_name or ""
    try:
        await js.consumer_info(NEWS.name, name)
        return
    except NotFoundError:
        pass
    try:
        await js.add_consumer(NEWS.name, config)
        log.info("created durable consumer %s on %s", name, NEWS.name)
    except BadRequestError:
        await js.consumer_info(NEWS.name, name)  # another replica created it first


class ArticleConsumer:
    """Fetches articles in batches and scores up to `max_in_flight` at once (so the model's
    batcher sees many texts together); acks each after its results are published. An article
    that cannot be decoded or holds no text is rejected (terminated, counted); one whose
    scoring fails (NATS, the model) is redelivered after a delay, at most 5 times in all."""

    def __init__(
        self,
        js: JetStreamContext,
        scorer: ArticleScorer,
        *,
        durable: str,
        fetch_batch: int,
        max_in_flight: int,
    ) -> None:
        self._js = js
        self._scorer = scorer
        self._durable = durable
        self._fetch_batch = fetch_batch
        self._max_in_flight = max_in_flight
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        sub = await self._js.pull_subscribe_bind(durable=self._durable, stream=NEWS.name)
        try:
            while not stop.is_set():
                if len(self._tasks) >= self._max_in_flight:
                    await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
                    continue
                want = min(self._fetch_batch, self._max_in_flight - len(self._tasks))
                try:
                    messages = await sub.fetch(want, timeout=_FETCH_TIMEOUT_S)
                except (nats.errors.TimeoutError, TimeoutError):
                    continue
                except nats.errors.Error as exc:
                    log.warning("fetching articles failed (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(_FETCH_TIMEOUT_S)
                    continue
                for message in messages:
                    task = asyncio.create_task(self._handle(message))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=_DRAIN_S)
            await sub.unsubscribe()

    async def _handle(self, message: Msg) -> None:
        try:
            article = decode_as(message.data, Article)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            metrics.articles.labels("none", "rejected").inc()
            log.warning("rejected an undecodable article (%d bytes): %s", len(message.data), exc)
            await message.term()
            return
        try:
            await self._scorer.handle(article)
        except RejectedArticleError as exc:
            metrics.articles.labels("none", "rejected").inc()
            log.warning("%s", exc)
            await message.term()
            return
        except (PublishError, ConflictError, nats.errors.Error, TimeoutError) as exc:
            self._failed(article, exc)
            await message.nak(delay=_RETRY_DELAY_S)
            return
        except Exception as exc:  # a model error must not stop the consumer
            log.exception("scoring article %s failed", article.id)
            self._failed(article, exc)
            await message.nak(delay=_RETRY_DELAY_S)
            return
        await message.ack()

    def _failed(self, article: Article, exc: BaseException) -> None:
        metrics.articles.labels(self._scorer.model_name(article), "failed").inc()
        log.warning(
            "article %s not scored (%s: %s); it will be redelivered",
            article.id,
            type(exc).__name__,
            exc,
        )
