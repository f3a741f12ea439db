"""The service on a real NATS: consume news.article, publish sentiment, once per model version."""

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from cryptohub.common import subjects
from cryptohub.common.events import Article, encode
from cryptohub.sentiment.app import SentimentApp
from cryptohub.sentiment.settings import Settings

# `captured` (conftest.Captured) collects every ArticleSentiment / AssetSentiment on NATS.
Captured = Any


def counter(outcome: str, model: str = "none") -> float:
    value = REGISTRY.get_sample_value(
        "cryptohub_sentiment_articles_total", {"model": model, "outcome": outcome}
    )
    return value or 0.0


async def eventually(condition: Callable[[], bool], within: float = 15.0) -> None:
    """Wait (bounded) until `condition` holds, e.g. a metric the service updates."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


async def publish(js: JetStreamContext, articles: Sequence[Article]) -> None:
    for article in articles:
        await js.publish(subjects.news_article(), encode(article))


@asynccontextmanager
async def running(*apps_settings: Settings) -> AsyncIterator[list[SentimentApp]]:
    """Start one app per settings (replicas when they share a consumer), stop them after."""
    stop = asyncio.Event()
    apps = [SentimentApp(s) for s in apps_settings]
    for app in apps:
        await app.start()
    tasks = [asyncio.create_task(app.run(stop)) for app in apps]
    try:
        yield apps
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
        for app in apps:
            await app.close()


async def test_tiny_bert_scores_a_batch_end_to_end_with_its_id_and_probabilities(
    tiny_model_dir: Path,
    make_settings: Callable[..., Settings],
    make_article: Callable[..., Article],
    captured: Captured,
    js: JetStreamContext,
) -> None:
    settings = make_settings(
        sentiment_news_model=str(tiny_model_dir),
        sentiment_social_model=str(tiny_model_dir),
        sentiment_batch_size=8,
    )
    articles = [
        make_article("Bitcoin surges to a new all-time high", symbols=("btc",)),
        make_article("Hackers stole ether from an exchange", symbols=("eth",)),
        make_article("Bitcoin and ether fall as regulators fine a lender", symbols=("btc", "eth")),
        make_article("Markets are calm", symbols=()),
        make_article("gm, bitcoin to the moon", source="reddit", symbols=("btc",)),
    ]
    async with running(settings) as (app,):
        assert app.router is not None
        revision = app.router.news.revision
        await publish(js, articles)
        await captured.wait_for(lambda: all(captured.for_article(a.id) for a in articles))
        await captured.wait_for(
            lambda: any(e.symbol == "btc" and e.article_count == 3 for e in captured.assets)
        )

    for article in articles:
        (result,) = captured.for_article(article.id)
        assert result.model == str(tiny_model_dir)
        assert result.model_revision == revision
        assert result.source == "sentiment"
        assert result.observed_at == article.observed_at
        probabilities = result.probabilities
        assert set(probabilities) == {"bearish", "neutral", "bullish"}
        assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-5)
        assert result.label == max(probabilities, key=lambda k: probabilities[k])
        assert math.isclose(
            result.score, probabilities["bullish"] - probabilities["bearish"], abs_tol=1e-6
        )
    btc = [e for e in captured.assets if e.symbol == "btc"]
    assert {e.window for e in btc} == {"1h", "24h"}
    assert max(e.article_count for e in btc if e.window == "24h") == 3
    assert max(e.article_count for e in captured.assets if e.symbol == "eth") == 2
    assert all(0.0 < e.confidence <= 1.0 for e in btc)


async def test_an_article_already_scored_by_the_same_model_is_not_scored_again(
    make_settings: Callable[..., Settings],
    make_article: Callable[..., Article],
    captured: Captured,
    js: JetStreamContext,
) -> None:
    settings = make_settings(sentiment_backend="lexicon")
    article = make_article("Crypto Exchange Gemini Passes Security Audit Conducted by Deloitte")
    scored_before = counter("scored", model="vader")
    async with running(settings):
        await publish(js, [article])
        await eventually(lambda: counter("scored", model="vader") > scored_before)  # and marked
        skipped_before = counter("already_scored", model="vader")
        # The collector sends it again (a new NEWS message: a different Nats-Msg-Id).
        await js.publish(
            subjects.news_article(), encode(article), headers={"Nats-Msg-Id": "resent-1"}
        )
        await eventually(lambda: counter("already_scored", model="vader") > skipped_before)
    (result,) = captured.for_article(article.id)
    assert (result.model, result.label) == ("vader", "bullish")
    assert result.probabilities == {}


async def test_malformed_articles_are_rejected_or_truncated_and_counted(
    make_settings: Callable[..., Settings],
    make_article: Callable[..., Article],
    raw_article: Callable[..., bytes],
    captured: Captured,
    js: JetStreamContext,
) -> None:
    settings = make_settings(sentiment_backend="lexicon", sentiment_max_chars=2000)
    huge = make_article("Bitcoin rallies", summary="Gains everywhere. " * 35_000)  # ~600 kB
    after = make_article("NEM Foundation, Nearly Broke, Plans Layoffs and Pivot")
    rejected_before, truncated_before = counter("rejected"), _truncated()
    async with running(settings):
        await js.publish(subjects.news_article(), raw_article(title=""))
        await js.publish(subjects.news_article(), b"{not json")
        await js.publish(subjects.news_article(), raw_article(title="   ", summary="<br/>"))
        await publish(js, [huge, after])
        await captured.wait_for(lambda: bool(captured.for_article(after.id)))
        await captured.wait_for(lambda: bool(captured.for_article(huge.id)))
        await eventually(lambda: counter("rejected") >= rejected_before + 3)
    assert counter("rejected") == rejected_before + 3
    assert _truncated() == truncated_before + 1
    assert captured.for_article(huge.id)[0].label == "bullish"
    assert captured.for_article(after.id)[0].label == "bearish"


def _truncated() -> float:
    return REGISTRY.get_sample_value("cryptohub_sentiment_truncated_total") or 0.0


async def test_replicas_share_the_consumer_and_count_each_article_once(
    make_settings: Callable[..., Settings],
    make_article: Callable[..., Article],
    captured: Captured,
    js: JetStreamContext,
) -> None:
    settings = make_settings(
        sentiment_backend="lexicon", sentiment_fetch_batch=2, sentiment_max_in_flight=2
    )
    articles = [make_article(f"Bitcoin gains, day {i}", symbols=("sol",)) for i in range(12)]
    async with running(settings, settings):
        await publish(js, articles)
        await captured.wait_for(lambda: all(captured.for_article(a.id) for a in articles))
        await captured.wait_for(
            lambda: any(e.symbol == "sol" and e.article_count == 12 for e in captured.assets)
        )
    assert sorted(e.article_id for e in captured.articles if e.article_id.startswith("test-")) == (
        sorted(a.id for a in articles)
    )
    assert max(e.article_count for e in captured.assets if e.symbol == "sol") == 12
