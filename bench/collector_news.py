"""collector-news throughput: feed parsing, symbol tagging, title matching, dedupe admits.

Runs the service's own code on the recorded feeds (CoinDesk 2019, Cointelegraph 2019): parse +
normalise per item, symbol tagging per text, near-identical title lookup against N recent titles,
and `ArticleGate.admit` against a real embedded NATS KV bucket. By hand:
`.venv/bin/python bench/collector_news.py`. Figures go in services/collector-news/README.md.
"""

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats

from cryptohub.collector_news.canonical import article_id, canonical_url
from cryptohub.collector_news.dates import DatePolicy
from cryptohub.collector_news.dedupe import ArticleGate, ensure_dedupe_bucket
from cryptohub.collector_news.normalise import Normaliser
from cryptohub.collector_news.providers.feeds import Feed, parse_feed
from cryptohub.collector_news.symbols import tag_symbols
from cryptohub.collector_news.titles import RecentTitles, TitleEntry, fingerprint
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.events import Article
from cryptohub.common.providers import ParseContext

ROOT = Path(__file__).resolve().parents[1]
FEEDS = [
    ROOT / "fixtures/providers/rss/coindesk_full_2019-01.xml",
    ROOT / "fixtures/providers/rss/cointelegraph.xml",
]
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def per_second(work: Callable[[], int], *, seconds: float = 2.0) -> float:
    """Median units/s over repeated runs of `work` (which returns the units it did)."""
    work()
    rates: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or len(rates) < 5:
        t0 = time.perf_counter()
        units = work()
        rates.append(units / (time.perf_counter() - t0))
    return statistics.median(rates)


def bench_parse() -> tuple[float, list[Article]]:
    bodies = [path.read_bytes() for path in FEEDS]
    feed = Feed("bench", "https://example.com/rss", "Bench")
    normaliser = Normaliser("bench", DatePolicy(max_age=timedelta(days=365 * 20)))
    ctx = ParseContext("bench", "feed", NOW)
    articles: list[Article] = []

    def work() -> int:
        articles.clear()
        for body in bodies:
            articles.extend(parse_feed(body, ctx, feed=feed, normaliser=normaliser).articles)
        return len(articles)

    return per_second(work), list(articles)


def bench_tagging(articles: list[Article]) -> float:
    texts = [(a.title, a.summary) for a in articles]

    def work() -> int:
        for title, summary in texts:
            tag_symbols(title, summary)
        return len(texts)

    return per_second(work)


def bench_titles(articles: list[Article], recent: int) -> float:
    titles = RecentTitles(window=timedelta(hours=12), similarity=0.9, keep=timedelta(days=8))
    for i in range(recent):
        base = articles[i % len(articles)].title
        titles.add(TitleEntry(f"id{i}", fingerprint(f"{base} number {i}"), NOW))
    probes = [fingerprint(a.title + " update") for a in articles]

    def work() -> int:
        for probe in probes:
            titles.match(probe, NOW)
        return len(probes)

    return per_second(work)


async def bench_admit(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp, EmbeddedNats(Path(tmp) / "nats") as server:
        client = await nats.connect(server.url)
        try:
            kv = await ensure_dedupe_bucket(client.jetstream(), "bench", timedelta(days=8))
            gate = ArticleGate(
                kv, title_window=timedelta(hours=12), similarity=0.9, keep=timedelta(days=8)
            )
            await gate.start()
            stories = []
            for i in range(count):
                url = canonical_url(f"https://example.com/story/{i}")
                assert url is not None
                stories.append(
                    Article(
                        source="bench",
                        observed_at=NOW,
                        received_at=NOW,
                        id=article_id(url),
                        url=url,
                        title=f"Story {i}: bitcoin {i * 7 % 1000} market move",
                    )
                )
            t0 = time.perf_counter()
            for story in stories:
                await gate.admit(story)
            new_rate = count / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            for story in stories:
                await gate.admit(story)
            repeat_rate = count / (time.perf_counter() - t0)
            await gate.stop()
        finally:
            await client.close()
    print(f"dedupe admit, new stories (KV create + title match): {new_rate:,.0f}/s")
    print(f"dedupe admit, seen stories (memory only): {repeat_rate:,.0f}/s")
    return new_rate


def main() -> None:
    parse_rate, articles = bench_parse()
    print(f"feed parse + normalise: {parse_rate:,.0f} items/s ({len(articles)} items per pass)")
    print(f"symbol tagging (title + summary): {bench_tagging(articles):,.0f} articles/s")
    for recent in (1_000, 5_000):
        rate = bench_titles(articles, recent)
        print(f"near-identical title lookup vs {recent:,} recent titles: {rate:,.0f} lookups/s")
    asyncio.run(bench_admit(2_000))


if __name__ == "__main__":
    main()
