"""The whole collector on a real NATS (its own server per test) and the replay server.

Each RSS feed is its own provider (own breaker, limiter, attempts). The replay route table
serves each recorded feed under its own provider (`coindesk`, `cointelegraph`); a test that needs
another feed adds a route for it with the recorded bytes.
"""

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nats
import pytest
from prometheus_client import REGISTRY

from cryptohub.cli.up import replay_env
from cryptohub.collector_news.app import NewsCollector, run
from cryptohub.collector_news.index_poller import IndexPollResult
from cryptohub.collector_news.poller import PollResult
from cryptohub.collector_news.providers.feeds import DEFAULT_FEEDS, RSS_BASE_URL_ENV
from cryptohub.collector_news.settings import FeedSettings, Settings
from cryptohub.common import subjects
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.events import Article, ProviderAttempt, SentimentIndex, decode
from cryptohub.common.replay import ReplayServer
from cryptohub.common.replay.faults import Fault
from cryptohub.common.replay.recorder import RecordedRequest
from cryptohub.common.testing import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Recorded = Callable[[str], bytes]
RSS = "application/rss+xml"
UNRECORDED_FEEDS = ("decrypt", "bitcoin_magazine", "the_block")
# alternative.me's API documentation example for GET /fng/ (not a recording).
DOCUMENTED_FNG = b"""{
\t"name": "Fear and Greed Index",
\t"data": [
\t\t{
\t\t\t"value": "40",
\t\t\t"value_classification": "Fear",
\t\t\t"timestamp": "1551157200",
\t\t\t"time_until_update": "68499"
\t\t}
\t],
\t"metadata": {
\t\t"error": null
\t}
}"""


def feed(name: str, url: str, outlet: str = "CoinDesk") -> FeedSettings:
    return FeedSettings(name=name, url=url, outlet=outlet)


def settings(server: EmbeddedNats, *feeds: FeedSettings, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "nats_url": server.url,
        "feeds": list(feeds),
        "reddit_subreddits": [],
        "fear_greed_enabled": False,
        # The recorded bodies are from 2016-2026: accept them (the default keeps a week).
        "article_max_age_h": 24 * 365 * 20,
        "dedupe_bucket": unique_name("news"),
        "first_poll_spread_s": 0,
        "publish_timeout_s": 2,
    }
    values.update(overrides)
    return Settings(**values)


async def stored(server: EmbeddedNats, subject: str) -> list[Any]:
    """Every event the stream holds on `subject`, in order (the subject must hold one at least)."""
    client = await nats.connect(server.url)
    try:
        sub = await client.jetstream().subscribe(subject, ordered_consumer=True)
        events = []
        while True:
            message = await sub.next_msg(timeout=10)
            events.append(decode(message.data))
            if message.metadata.num_pending == 0:
                break
        await sub.unsubscribe()
        return events
    finally:
        await client.close()


async def articles(server: EmbeddedNats) -> list[Article]:
    found = await stored(server, subjects.news_article())
    assert all(isinstance(a, Article) for a in found)
    return found


def requests_to(
    replay: ReplayServer, provider: str, path: str | None = None
) -> list[RecordedRequest]:
    return [
        r for r in replay.requests if r.provider == provider and (path is None or r.path == path)
    ]


async def poll_once(collector: NewsCollector) -> dict[str, PollResult]:
    """Poll every source once; each source's result by its name (failures left out)."""
    results = await collector.poll_all_once()
    return {
        p.source.name: r
        for p, r in zip(collector.pollers, results, strict=True)
        if isinstance(r, PollResult)
    }


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_story_in_two_feeds_and_two_polls_is_published_once(
    private_nats: EmbeddedNats, replay_server: ReplayServer, recorded: Recorded
) -> None:
    coindesk = recorded("rss/coindesk.xml")
    # A second feed carrying the same three stories; it sends no validators, so each of its
    # polls is a full 200 that gets parsed again.
    replay_server.add_route("mirror", "GET", "/arc/outboundfeeds/rss", coindesk, content_type=RSS)
    replay_server.inject("mirror", "/arc/outboundfeeds/rss", Fault(body=coindesk))
    config = settings(
        private_nats,
        feed("coindesk", replay_server.base_url("coindesk") + "/arc/outboundfeeds/rss"),
        feed("mirror", replay_server.base_url("mirror") + "/arc/outboundfeeds/rss"),
        feed("coindesk_2019", replay_server.base_url("coindesk") + "/feed"),
    )
    async with NewsCollector(config) as collector:
        first = await collector.poll_all_once()
        second = await collector.poll_all_once()
        mirror = collector.pollers[1]

    assert [(r.status, r.published, r.duplicates) for r in first if isinstance(r, PollResult)] == [
        ("ok", 3, 0),
        ("ok", 0, 3),
        ("ok", 20, 0),
    ]
    assert [(r.status, r.published, r.duplicates) for r in second if isinstance(r, PollResult)] == [
        ("not_modified", 0, 0),
        ("ok", 0, 3),
        ("not_modified", 0, 0),
    ]
    assert mirror.parses == 2
    published = await articles(private_nats)
    assert len(published) == 23
    assert len({a.id for a in published}) == 23
    assert sorted(a.source for a in published if "2026/09/25" in a.url) == ["coindesk"] * 3

    # A restart: new clients (no validators, so 200s and full parses), the same KV bucket.
    async with NewsCollector(config) as restarted:
        again = await restarted.poll_all_once()
    assert [r.verdicts for r in again if isinstance(r, PollResult)] == [
        {"duplicate_url": 3},
        {"duplicate_url": 3},
        {"duplicate_url": 20},
    ]
    assert len(await articles(private_nats)) == 23


async def test_replay_mode_serves_each_feed_its_own_recording_and_unrecorded_feeds_a_404(
    private_nats: EmbeddedNats, replay_server: ReplayServer, fixtures_dir: Path
) -> None:
    # What `cryptohub up --replay` hands the collector, for this replay server's port. The old
    # shared feed variable is set too: were it still read, Decrypt's `/feed` would be answered
    # with CoinDesk's 2019 feed and its articles published as Decrypt's.
    environ = replay_env(fixtures_dir, urlsplit(replay_server.url).port or 0)
    environ[RSS_BASE_URL_ENV] = replay_server.base_url("coindesk")
    config = settings(
        private_nats,
        *(FeedSettings(name=f.name, url=f.url, outlet=f.outlet) for f in DEFAULT_FEEDS),
        replay=True,
    )
    async with NewsCollector(config, environ=environ) as collector:
        by_feed = await poll_once(collector)

    assert {name: (r.status, r.published) for name, r in by_feed.items()} == {
        "coindesk": ("ok", 3),
        "cointelegraph": ("ok", 30),
        "decrypt": ("failed", 0),
        "bitcoin_magazine": ("failed", 0),
        "the_block": ("failed", 0),
    }
    assert all("404" in (by_feed[n].error or "") for n in UNRECORDED_FEEDS)
    # Every feed asked the replay server under its own name; none went to its real host.
    assert {(r.provider, r.path) for r in replay_server.requests} == {
        ("coindesk", "/arc/outboundfeeds/rss"),
        ("cointelegraph", "/rss"),
        ("decrypt", "/feed"),
        ("bitcoin_magazine", "/.rss/full"),
        ("the_block", "/rss.xml"),
    }
    published = await articles(private_nats)
    by_source = {a.source: 0 for a in published}
    for article in published:
        by_source[article.source] += 1
    assert by_source == {"coindesk": 3, "cointelegraph": 30}
    assert all(
        a.url.startswith("https://www.coindesk.com/") for a in published if a.source == "coindesk"
    )
    assert all(
        a.url.startswith("https://cointelegraph.com/")
        for a in published
        if a.source == "cointelegraph"
    )
    attempts = await stored(private_nats, subjects.all_provider_attempts())
    failed = {
        (a.provider, a.status, a.error_kind)
        for a in attempts
        if isinstance(a, ProviderAttempt) and not a.ok
    }
    assert failed == {(name, 404, "http_4xx") for name in UNRECORDED_FEEDS}


async def test_a_feed_answering_304_is_not_parsed_again(
    private_nats: EmbeddedNats, replay_server: ReplayServer
) -> None:
    name = unique_name("cd").lower()
    config = settings(
        private_nats, feed(name, replay_server.base_url("coindesk") + "/arc/outboundfeeds/rss")
    )
    async with NewsCollector(config) as collector:
        results = [await collector.pollers[0].poll_once() for _ in range(3)]
        poller = collector.pollers[0]
    assert [r.status for r in results] == ["ok", "not_modified", "not_modified"]
    assert poller.parses == 1
    assert counter("cryptohub_news_bodies_parsed_total", source=name) == 1
    assert counter("cryptohub_news_polls_total", source=name, outcome="not_modified") == 2
    requests = requests_to(replay_server, "coindesk", "/arc/outboundfeeds/rss")
    assert len(requests) == 3
    assert "if-none-match" not in requests[0].headers
    assert all("if-none-match" in r.headers for r in requests[1:])
    assert len(await articles(private_nats)) == 3


async def test_fear_greed_history_on_first_start_then_only_newer_values(
    private_nats: EmbeddedNats, replay_server: ReplayServer
) -> None:
    # History (limit=0): alternative.me's documented example, one day in February 2019.
    # Current value (limit=1): the recorded route, the values of 2021-12-21 and 2021-12-22.
    replay_server.add_route("alternative_me", "GET", "/fng", DOCUMENTED_FNG, query={"limit": "0"})
    environ = {"CRYPTOHUB_ALTERNATIVE_ME_BASE_URL": replay_server.base_url("alternative_me")}
    config = settings(private_nats, fear_greed_enabled=True)

    async with NewsCollector(config, environ=environ) as first_start:
        assert first_start.index is not None
        backfill = await first_start.index.poll_once()
    assert (backfill.status, backfill.published) == ("backfilled", 1)
    history_requests = requests_to(replay_server, "alternative_me")
    assert [r.query["limit"] for r in history_requests] == ["0"]

    async with NewsCollector(config, environ=environ) as second_start:
        assert second_start.index is not None
        current = await second_start.index.poll_once()
        unchanged = await second_start.index.poll_once()
    assert (current.status, current.published) == ("ok", 2)
    assert (unchanged.status, unchanged.published) == ("not_modified", 0)
    later_requests = requests_to(replay_server, "alternative_me")[1:]
    assert [r.query["limit"] for r in later_requests] == ["1", "1"]

    values = await stored(private_nats, subjects.sentiment_index("fear_greed"))
    assert all(isinstance(v, SentimentIndex) for v in values)
    assert [(v.observed_at.date().isoformat(), v.value, v.classification) for v in values] == [
        ("2019-02-26", 40, "Fear"),
        ("2021-12-21", 27, "Fear"),
        ("2021-12-22", 45, "Fear"),
    ]

    async with NewsCollector(config, environ=environ) as third_start:
        assert third_start.index is not None
        result = await third_start.index.poll_once()
    assert isinstance(result, IndexPollResult)
    assert (result.status, result.published) == ("ok", 0)
    assert [r.query["limit"] for r in requests_to(replay_server, "alternative_me")[3:]] == ["1"]


async def test_every_kind_of_source_end_to_end_and_failing_ones_do_not_stop_the_rest(
    private_nats: EmbeddedNats, replay_server: ReplayServer, recorded: Recorded
) -> None:
    # Reddit: the recorded r/AskReddit listing (no crypto subreddit was recorded), served for
    # the subreddit asked. CryptoPanic and NewsAPI: their recorded error answers (400 and 401).
    replay_server.add_route(
        "reddit",
        "GET",
        "/r/CryptoCurrency/new.json",
        recorded("reddit/r_askreddit_new_limit100_oauth.json"),
    )
    cryptopanic_key, newsapi_key = unique_name("cpkey"), unique_name("nakey")
    environ: Mapping[str, str] = {
        "CRYPTOHUB_REDDIT_BASE_URL": replay_server.base_url("reddit"),
        "CRYPTOHUB_CRYPTOPANIC_BASE_URL": replay_server.base_url("cryptopanic"),
        "CRYPTOHUB_NEWSAPI_BASE_URL": replay_server.base_url("newsapi"),
        "CRYPTOPANIC_API_KEY": cryptopanic_key,
        "NEWSAPI_API_KEY": newsapi_key,
    }
    config = settings(
        private_nats,
        feed("cointelegraph", replay_server.base_url("cointelegraph") + "/rss", "Cointelegraph"),
        reddit_subreddits=["CryptoCurrency"],
    )
    async with NewsCollector(config, environ=environ) as collector:
        by_source = await poll_once(collector)
    assert (by_source["cointelegraph"].status, by_source["cointelegraph"].published) == ("ok", 30)
    assert (by_source["reddit"].status, by_source["reddit"].published) == ("ok", 96)
    assert by_source["cryptopanic"].status == "failed"
    assert "http_4xx" in (by_source["cryptopanic"].error or "")
    assert by_source["newsapi"].status == "failed"
    published = await articles(private_nats)
    assert len(published) == 126
    # The key went to CryptoPanic as auth_token and to NewsAPI as X-Api-Key ...
    [cp_request] = requests_to(replay_server, "cryptopanic")
    assert cp_request.query["auth_token"] == cryptopanic_key
    [na_request] = requests_to(replay_server, "newsapi")
    assert na_request.headers["x-api-key"] == newsapi_key
    # ... and never into an attempt event.
    # Stopping the collector flushed the attempt sink.
    attempts = await stored(private_nats, subjects.all_provider_attempts())
    assert all(isinstance(a, ProviderAttempt) for a in attempts)
    failed = {a.provider: a for a in attempts if not a.ok}
    assert failed["cryptopanic"].status == 400
    assert failed["cryptopanic"].error_kind == "http_4xx"
    assert failed["newsapi"].status == 401
    assert not any(key in str(a) for a in attempts for key in (cryptopanic_key, newsapi_key))


async def test_malformed_empty_and_junk_feeds_are_counted_and_nothing_crashes(
    private_nats: EmbeddedNats, replay_server: ReplayServer, recorded: Recorded
) -> None:
    whole = recorded("rss/cointelegraph.xml")
    broken, junk, empty = (unique_name(n).lower() for n in ("broken", "junk", "empty"))
    # Fault inputs: the recorded feed cut in half; an HTML error page; a channel with no item.
    replay_server.add_route(broken, "GET", "/rss", whole[: len(whole) // 2], content_type=RSS)
    replay_server.add_route(junk, "GET", "/rss", b"<html><body>502 Bad Gateway</body></html>")
    replay_server.add_route(
        empty,
        "GET",
        "/rss",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        content_type=RSS,
    )
    config = settings(
        private_nats,
        *(feed(name, replay_server.base_url(name) + "/rss") for name in (broken, junk, empty)),
    )
    async with NewsCollector(config) as collector:
        results = await collector.poll_all_once()
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    anomalies = "cryptohub_news_anomalies_total"
    assert counter(anomalies, source=broken, kind="malformed_xml") == 1
    assert counter(anomalies, source=junk, kind="unreadable_body") == 1
    assert counter(anomalies, source=empty, kind="empty_feed") == 1
    published = await articles(private_nats)
    assert 5 < len(published) < 30
    assert {a.source for a in published} == {broken}


async def test_the_service_polls_on_its_schedule_and_stops_cleanly(
    private_nats: EmbeddedNats, replay_server: ReplayServer
) -> None:
    config = settings(
        private_nats,
        feed("coindesk", replay_server.base_url("coindesk") + "/arc/outboundfeeds/rss"),
        feed_interval_s=0.2,
    )
    stop = asyncio.Event()
    service = asyncio.create_task(run(config, stop))
    async with asyncio.timeout(20):
        await replay_server.wait_for_requests("coindesk", "/arc/outboundfeeds/rss", count=4)
    stop.set()
    await asyncio.wait_for(service, 10)
    assert len(await articles(private_nats)) == 3


async def test_a_stop_ends_the_wait_for_an_unreachable_nats(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path / "gone") as server:
        config = settings(server)
    # The server is gone now: the collector waits for it (reconnecting), and a stop ends that.
    stop = asyncio.Event()
    service = asyncio.create_task(run(config, stop))
    await asyncio.sleep(1.0)
    assert not service.done(), "the collector must keep waiting for NATS, not crash"
    stop.set()
    await asyncio.wait_for(service, 10)
