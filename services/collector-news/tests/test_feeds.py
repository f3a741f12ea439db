"""RSS/Atom parsing on the recorded feeds, and on broken, empty, hostile and odd bodies."""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cryptohub.collector_news.normalise import Normaliser
from cryptohub.collector_news.providers.feeds import (
    DEFAULT_FEEDS,
    RSS_BASE_URL_ENV,
    Feed,
    feed_request,
    feed_spec,
    parse_feed,
    resolve_feed,
)
from cryptohub.common.providers import ParseContext, ParseError

Recorded = Callable[[str], bytes]
Ctx = Callable[[str], ParseContext]
Era = Callable[[str], Normaliser]

COINDESK = Feed("coindesk", "https://www.coindesk.com/arc/outboundfeeds/rss/", "CoinDesk")
COINTELEGRAPH = Feed("cointelegraph", "https://cointelegraph.com/rss", "Cointelegraph")


def test_coindesk_2026_feed(recorded: Recorded, ctx: Ctx, recorded_era: Era) -> None:
    batch = parse_feed(
        recorded("rss/coindesk.xml"),
        ctx("coindesk"),
        feed=COINDESK,
        normaliser=recorded_era("coindesk"),
    )
    assert dict(batch.anomalies) == {}
    assert [a.title for a in batch.articles] == [
        "Circle and Tether step in to freeze hacker wallet after massive Bitget crypto heist",
        "Tokenization is moving faster than Washington",
        "Tether confirms minimal EQIBank exposure following $89M US asset seizure",
    ]
    first = batch.articles[0]
    assert first.url == (
        "https://www.coindesk.com/markets/2026/09/25/"
        "circle-and-tether-step-in-to-freeze-hacker-wallet-after-massive-bitget-crypto-heist"
    )
    assert first.observed_at == datetime(2026, 9, 25, 14, 41, 53, tzinfo=UTC)
    assert first.received_at == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert first.source == "coindesk"
    assert first.outlet == "CoinDesk"
    assert first.language == "en"
    # The description survives the empty <dc:description/> that follows it in this feed.
    assert first.summary.startswith("The stablecoin issuer blacklisted a wallet holding about")
    assert first.symbols == ("eth", "usdc", "usdt")  # "ether", "USDC", "USDT", "Tether"
    assert batch.articles[1].symbols == ()
    assert len({a.id for a in batch.articles}) == 3


def test_coindesk_2019_feed(recorded: Recorded, ctx: Ctx, recorded_era: Era) -> None:
    batch = parse_feed(
        recorded("rss/coindesk_full_2019-01.xml"),
        ctx("coindesk"),
        feed=COINDESK,
        normaliser=recorded_era("coindesk"),
    )
    assert len(batch.articles) == 20
    first = batch.articles[0]
    assert first.title == "Cboe Resubmits the VanEck/SolidX Bitcoin ETF Proposal for SEC Approval"
    assert first.url == "https://www.coindesk.com/cboe-re-files-vaneck-solidx-bitcoin-etf-proposal"
    assert first.observed_at == datetime(2019, 1, 31, 19, 18, 5, tzinfo=UTC)
    assert first.symbols == ("btc",)
    by_title = {a.title: a for a in batch.articles}
    wrapped = by_title["A Bitcoin-Backed Stablecoin Has Launched on the Ethereum Blockchain"]
    assert wrapped.symbols == ("btc", "eth", "wbtc")
    assert by_title["Ripple Hires General Counsel from Lending Giant CIT Group"].symbols == ("xrp",)
    assert all(a.observed_at.tzinfo is UTC for a in batch.articles)


def test_cointelegraph_2019_feed_html_summaries_are_stripped(
    recorded: Recorded, ctx: Ctx, recorded_era: Era
) -> None:
    batch = parse_feed(
        recorded("rss/cointelegraph.xml"),
        ctx("cointelegraph"),
        feed=COINTELEGRAPH,
        normaliser=recorded_era("cointelegraph"),
    )
    assert len(batch.articles) == 30
    first = batch.articles[0]
    assert first.title == "CEO of Telecoms Giant Swisscom\u2019s Blockchain Unit Steps Down"
    assert first.observed_at == datetime(2019, 1, 31, 21, 10, tzinfo=UTC)
    assert first.url == (
        "https://cointelegraph.com/news/ceo-of-telecoms-giant-swisscoms-blockchain-unit-steps-down"
    )
    assert first.summary.startswith("The CEO of the blockchain unit of Swiss state-owned")
    assert all("<" not in a.summary and "&amp;" not in a.summary for a in batch.articles)
    by_title = {a.title: a for a in batch.articles}
    classic = by_title[
        "ConsenSys Developer Joins Ethereum Classic Cooperative as Executive Director"
    ]
    assert classic.symbols == ("etc",)


def test_truncated_feed_keeps_the_readable_items_and_counts_malformed_xml(
    recorded: Recorded, ctx: Ctx, recorded_era: Era
) -> None:
    whole = recorded("rss/cointelegraph.xml")
    cut = whole[: len(whole) // 2]  # a connection that broke mid-body
    batch = parse_feed(cut, ctx("c"), feed=COINTELEGRAPH, normaliser=recorded_era("c"))
    assert batch.anomalies["malformed_xml"] == 1
    assert 5 < len(batch.articles) < 30
    assert (
        batch.articles[0].title
        == "CEO of Telecoms Giant Swisscom\u2019s Blockchain Unit Steps Down"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\xff\xfe garbage \x01",
        b"<html><head><title>Cloudflare</title></head><body>Just a moment</body></html>",
        b'{"error": "rate limited"}',
    ],
)
def test_a_body_that_is_no_feed_is_a_parse_error(body: bytes, ctx: Ctx, recorded_era: Era) -> None:
    with pytest.raises(ParseError):
        parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))


def test_a_broken_item_is_refused_and_counted(ctx: Ctx, recorded_era: Era) -> None:
    # Synthetic input: the body breaks off inside the first item's title.
    body = b"<rss version='2.0'><channel><item><title>unclosed"
    batch = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))
    assert batch.articles == []
    assert batch.anomalies["malformed_xml"] == 1
    assert batch.anomalies["missing_url"] == 1


def test_an_empty_feed_is_counted_not_an_error(ctx: Ctx, recorded_era: Era) -> None:
    # Synthetic input: a valid RSS 2.0 channel with no item.
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet day</title>
    <link>https://example.com/</link><description>nothing</description></channel></rss>"""
    batch = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))
    assert batch.articles == []
    assert dict(batch.anomalies) == {"empty_feed": 1}


def _rss(*items: str) -> bytes:
    """Synthetic RSS 2.0 fault input (not a provider recording) around `items`."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
        "<link>https://example.com/</link><description>d</description>"
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>"
    ).encode()


def test_html_laden_titles_are_cleaned_and_counted(ctx: Ctx, recorded_era: Era) -> None:
    body = _rss(
        "<title>&lt;b&gt;Bitcoin&lt;/b&gt; &amp;amp; &lt;i&gt;friends&lt;/i&gt; rally</title>"
        "<link>https://example.com/a</link><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>",
        "<title><![CDATA[<span class='x'>SOL</span> jumps &#8211; again]]></title>"
        "<link>https://example.com/b</link><pubDate>Fri, 20 Nov 2026 11:00:00 GMT</pubDate>",
    )
    batch = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))
    assert [a.title for a in batch.articles] == [
        "Bitcoin & friends rally",
        "SOL jumps \u2013 again",
    ]
    assert [a.symbols for a in batch.articles] == [("btc",), ("sol",)]
    assert batch.anomalies["html_title"] == 2


def test_absurd_missing_and_unreadable_dates_are_refused_and_counted(
    ctx: Ctx, recorded_era: Era
) -> None:
    body = _rss(
        "<title>From the future</title><link>https://example.com/1</link>"
        "<pubDate>Thu, 01 Jan 2099 00:00:00 GMT</pubDate>",
        "<title>From the epoch</title><link>https://example.com/2</link>"
        "<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>",
        "<title>Never dated</title><link>https://example.com/3</link>",
        "<title>Badly dated</title><link>https://example.com/4</link>"
        "<pubDate>the day before yesterday</pubDate>",
        "<title>Fine</title><link>https://example.com/5</link>"
        "<pubDate>2026-11-21T08:30:00+01:00</pubDate>",
        "<title></title><link>https://example.com/6</link>"
        "<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>",
        "<title>No link</title><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>",
        "<title>Bad link</title><link>javascript:alert(1)</link>"
        "<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>",
    )
    batch = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))
    assert [(a.title, a.observed_at) for a in batch.articles] == [
        ("Fine", datetime(2026, 11, 21, 7, 30, tzinfo=UTC))
    ]
    assert dict(batch.anomalies) == {
        "future_date": 1,
        "stale_date": 1,
        "missing_date": 1,
        "bad_date": 1,
        "missing_title": 1,
        "missing_url": 1,
        "bad_url": 1,
    }


def test_relative_links_are_resolved_against_the_feed(ctx: Ctx, recorded_era: Era) -> None:
    body = _rss(
        "<title>Relative</title><link>/news/relative-story?utm_source=rss</link>"
        "<pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>"
    )
    [article] = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x")).articles
    assert article.url == "https://www.coindesk.com/news/relative-story"


def test_atom_feed(ctx: Ctx, recorded_era: Era) -> None:
    # The documented example of RFC 4287 section 1.1 (an Atom 1.0 feed with one entry).
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example Feed</title>
  <link href="http://example.org/"/>
  <updated>2003-12-13T18:30:02Z</updated>
  <author>
    <name>John Doe</name>
  </author>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <entry>
    <title>Atom-Powered Robots Run Amok</title>
    <link href="http://example.org/2003/12/13/atom03"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2003-12-13T18:30:02Z</updated>
    <summary>Some text.</summary>
  </entry>
</feed>"""
    # 2003 predates Bitcoin, so this entry is refused as stale; the parse itself is what counts.
    batch = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))
    assert dict(batch.anomalies) == {"stale_date": 1}
    dated_now = body.replace(b"2003-12-13T18:30:02Z", b"2026-11-20T18:30:02Z")
    [entry] = parse_feed(dated_now, ctx("x"), feed=COINDESK, normaliser=recorded_era("x")).articles
    assert entry.title == "Atom-Powered Robots Run Amok"
    assert entry.url == "http://example.org/2003/12/13/atom03"
    assert entry.summary == "Some text."
    assert entry.observed_at == datetime(2026, 11, 20, 18, 30, 2, tzinfo=UTC)


def test_external_entities_are_never_resolved(tmp_path: Path, ctx: Ctx, recorded_era: Era) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
        "<link>https://example.com/x</link><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>"
        "</item></channel></rss>"
    ).encode()
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))


def test_entity_expansion_bomb_is_refused_at_once(ctx: Ctx, recorded_era: Era) -> None:
    # The classic "billion laughs": ten levels, each ten times the one below.
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    lol = "\n".join(levels)
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{lol}\n]>\n<rss version="2.0"><channel>'
        "<title>&lol9;</title></channel></rss>"
    ).encode()
    started = time.monotonic()
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))
    assert time.monotonic() - started < 5


def test_a_body_that_names_a_local_file_is_not_opened(
    tmp_path: Path, recorded: Recorded, ctx: Ctx, recorded_era: Era
) -> None:
    # feedparser.parse(bytes) opens the bytes as a file name if such a file exists.
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes(recorded("rss/coindesk.xml"))
    with pytest.raises(ParseError):
        parse_feed(str(feed_file).encode(), ctx("x"), feed=COINDESK, normaliser=recorded_era("x"))


def test_each_feed_is_its_own_provider_with_conditional_get() -> None:
    specs = [feed_spec(feed) for feed in DEFAULT_FEEDS]
    assert [s.name for s in specs] == [
        "coindesk",
        "cointelegraph",
        "decrypt",
        "bitcoin_magazine",
        "the_block",
    ]
    assert all(s.conditional_get for s in specs)
    request = feed_request(COINDESK)
    assert request.conditional
    assert request.path == "/arc/outboundfeeds/rss/"
    assert specs[0].base_url == "https://www.coindesk.com"


def test_base_url_comes_from_the_feed_variable_then_replay_then_the_feeds_host() -> None:
    spec = feed_spec(COINDESK)
    assert resolve_feed(spec, {}).base_url == "https://www.coindesk.com"
    replay = {"CRYPTOHUB_REPLAY": "1", "CRYPTOHUB_REPLAY_URL": "http://127.0.0.1:9"}
    assert resolve_feed(spec, replay).base_url == "http://127.0.0.1:9/coindesk"
    own = {**replay, "CRYPTOHUB_COINDESK_BASE_URL": "http://mirror.example/"}
    assert resolve_feed(spec, own).base_url == "http://mirror.example"


def test_a_base_url_shared_by_every_feed_is_ignored_and_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One URL for every feed answered Decrypt's /feed with CoinDesk's recorded feed.
    decrypt = feed_spec(Feed("decrypt", "https://decrypt.co/feed", "Decrypt"))
    shared = {RSS_BASE_URL_ENV: "http://127.0.0.1:9/coindesk"}
    assert resolve_feed(decrypt, shared).base_url == "https://decrypt.co"
    assert f"{RSS_BASE_URL_ENV} is ignored" in caplog.text
    assert "CRYPTOHUB_DECRYPT_BASE_URL" in caplog.text


@pytest.mark.parametrize(
    ("date", "utc"),
    [
        ("Fri, 20 Nov 2026 10:00:00 GMT", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("Fri, 20 Nov 2026 10:00:00 +0000", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("Fri, 20 Nov 2026 05:00:00 EST", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("Fri, 20 Nov 2026 02:00:00 -0800", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("20 Nov 2026 10:00 GMT", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T12:00:00+02:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00.123Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ],
)
def test_feed_date_formats_become_utc(
    date: str, utc: datetime, ctx: Ctx, recorded_era: Era
) -> None:
    body = _rss(f"<title>Dated</title><link>https://example.com/d</link><pubDate>{date}</pubDate>")
    [article] = parse_feed(body, ctx("x"), feed=COINDESK, normaliser=recorded_era("x")).articles
    assert article.observed_at == utc
    assert article.observed_at.tzinfo is UTC
