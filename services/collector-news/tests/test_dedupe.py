"""The dedupe gate on a real JetStream KV bucket: once per story, across replicas and restarts."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from nats.js import JetStreamContext

from cryptohub.collector_news.canonical import article_id, canonical_url
from cryptohub.collector_news.dedupe import ArticleGate, ensure_dedupe_bucket
from cryptohub.common.events import Article
from cryptohub.common.testing import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=12)
KEEP = timedelta(days=8)


def article(url: str, title: str, *, source: str = "coindesk", at: datetime = T0) -> Article:
    canonical = canonical_url(url)
    assert canonical is not None
    return Article(
        source=source,
        observed_at=at,
        received_at=T0,
        id=article_id(canonical),
        url=canonical,
        title=title,
    )


async def gate(js: JetStreamContext, bucket: str) -> ArticleGate:
    kv = await ensure_dedupe_bucket(js, bucket, KEEP)
    started = ArticleGate(kv, title_window=WINDOW, similarity=0.9, keep=KEEP)
    await started.start()
    return started


async def test_a_story_is_new_once_whatever_source_or_url_noise(js: JetStreamContext) -> None:
    first = await gate(js, unique_name("news"))
    try:
        story = article("https://example.com/story", "Bitcoin tops $100K")
        copy = article(
            "http://EXAMPLE.com/story/?utm_source=twitter#comments",
            "Bitcoin tops $100K",
            source="cryptopanic",
        )
        assert copy.id == story.id
        assert await first.admit(story) == "new"
        assert await first.admit(story) == "duplicate_url"
        assert await first.admit(copy) == "duplicate_url"
    finally:
        await first.stop()


async def test_near_identical_title_under_another_url_within_the_window(
    js: JetStreamContext,
) -> None:
    first = await gate(js, unique_name("news"))
    try:
        assert (
            await first.admit(article("https://a.example/x", "SEC Approves Spot Bitcoin ETFs"))
            == "new"
        )
        later = T0 + timedelta(hours=2)
        assert (
            await first.admit(
                article("https://b.example/y", "SEC approves spot bitcoin ETF", at=later)
            )
            == "duplicate_title"
        )
        next_week = T0 + timedelta(days=7)
        assert (
            await first.admit(
                article("https://c.example/z", "SEC approves spot bitcoin ETF", at=next_week)
            )
            == "new"
        )
        assert (
            await first.admit(article("https://d.example/w", "SEC delays spot bitcoin ETF"))
            == "new"
        )
    finally:
        await first.stop()


async def test_dedupe_state_survives_a_restart(js: JetStreamContext) -> None:
    bucket = unique_name("news")
    before = await gate(js, bucket)
    assert (
        await before.admit(article("https://example.com/a", "Ethereum upgrade goes live")) == "new"
    )
    await before.stop()

    after = await gate(js, bucket)  # a new process: nothing in memory but what the bucket holds
    try:
        assert after.known == 1
        assert (
            await after.admit(article("https://example.com/a", "Ethereum upgrade goes live"))
            == "duplicate_url"
        )
        assert (
            await after.admit(article("https://mirror.example/a", "Ethereum Upgrade Goes Live!"))
            == "duplicate_title"
        )
    finally:
        await after.stop()


async def test_two_replicas_admit_a_story_once(js: JetStreamContext) -> None:
    bucket = unique_name("news")
    replicas = [await gate(js, bucket), await gate(js, bucket)]
    try:
        stories = [
            article(f"https://example.com/{i}", f"Story number {i} of many") for i in range(20)
        ]
        verdicts = await asyncio.gather(
            *(replica.admit(story) for story in stories for replica in replicas)
        )
        assert verdicts.count("new") == 20
        assert verdicts.count("duplicate_url") == 20
    finally:
        for replica in replicas:
            await replica.stop()


async def test_a_released_story_is_admitted_again(js: JetStreamContext) -> None:
    first = await gate(js, unique_name("news"))
    try:
        stories = [
            article(f"https://example.com/retry/{i}", f"Solana outage {i} ends") for i in range(30)
        ]
        for story in stories:
            assert await first.admit(story) == "new"
            await first.release(story)  # its publish failed; the claim's watch echo may be late
            assert await first.admit(story) == "new"
        await asyncio.sleep(0.3)  # every echo (claim, delete, claim again) is back
        assert first.known == 30
        assert [await first.admit(story) for story in stories] == ["duplicate_url"] * 30
    finally:
        await first.stop()


async def test_bucket_ttl_is_set_and_follows_the_settings(js: JetStreamContext) -> None:
    bucket = unique_name("news")
    kv = await ensure_dedupe_bucket(js, bucket, timedelta(days=8))
    assert (await kv.status()).ttl == pytest.approx(timedelta(days=8).total_seconds())
    kv = await ensure_dedupe_bucket(js, bucket, timedelta(days=3))
    assert (await kv.status()).ttl == pytest.approx(timedelta(days=3).total_seconds())
