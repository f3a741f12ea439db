"""RSS and Atom feeds (CoinDesk, Cointelegraph, Decrypt, Bitcoin Magazine, The Block, ...).

Each feed is its own provider (own rate limiter, breaker, attempts and health state), named by
its slug. Its base URL comes from `CRYPTOHUB_<FEED>_BASE_URL`, else (replay mode) from
`CRYPTOHUB_REPLAY_URL/<feed>`, else from the feed's own URL. There is no base URL shared by every
feed: it would serve one outlet's recording as another's articles.
"""

import io
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urljoin, urlsplit

import feedparser  # type: ignore[import-untyped]

from cryptohub.collector_news.dates import from_struct_time
from cryptohub.collector_news.normalise import Batch, Normaliser, RawItem
from cryptohub.common.providers import (
    BreakerPolicy,
    ParseContext,
    ParseError,
    ProviderSpec,
    RateLimits,
    Request,
    ResolvedProvider,
    Timeouts,
    resolve,
)

__all__ = [
    "DEFAULT_FEEDS",
    "RSS_BASE_URL_ENV",
    "USER_AGENT",
    "Feed",
    "feed_request",
    "feed_spec",
    "parse_feed",
    "resolve_feed",
]

log = logging.getLogger(__name__)

RSS_BASE_URL_ENV: Final = "CRYPTOHUB_RSS_BASE_URL"
"""No longer read (it sent every feed to one place); a feed that finds it set says so."""
USER_AGENT: Final = "cryptohub-collector-news/0.1 (news aggregation; polite polling)"
_ACCEPT: Final = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
_MAX_BODY: Final = 4 * 1024 * 1024

# defusedxml's rule for untrusted XML: no entity declarations at all. feedparser already keeps
# only simple internal entities and turns external ones off in expat; a real feed declares none,
# so a body that does is refused before any parser sees it.
_ENTITY_DECLARATION: Final = re.compile(rb"<!ENTITY", re.IGNORECASE)
_FIRST_ELEMENT: Final = re.compile(rb"<[A-Za-z]")
# An empty `<dc:description/>` or `<content:encoded/>` after the real `<description>` makes
# feedparser replace the summary with "" (CoinDesk's 2026 feed does this). Removing an empty
# element loses nothing.
_EMPTY_SUMMARY_ELEMENT: Final = re.compile(rb"<(?:dc:description|content:encoded)\s*/>")


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed to poll: its provider slug, URL, publication name and (if known) language."""

    name: str
    url: str
    outlet: str
    language: str | None = None


DEFAULT_FEEDS: Final = (
    Feed("coindesk", "https://www.coindesk.com/arc/outboundfeeds/rss/", "CoinDesk"),
    Feed("cointelegraph", "https://cointelegraph.com/rss", "Cointelegraph"),
    Feed("decrypt", "https://decrypt.co/feed", "Decrypt"),
    Feed("bitcoin_magazine", "https://bitcoinmagazine.com/.rss/full/", "Bitcoin Magazine"),
    Feed("the_block", "https://www.theblock.co/rss.xml", "The Block"),
)


def feed_spec(feed: Feed, *, per_minute: float = 6.0) -> ProviderSpec:
    """The feed as a provider: conditional GETs, a few calls a minute at most."""
    parts = urlsplit(feed.url)
    return ProviderSpec(
        name=feed.name,
        category="news",
        base_url=f"{parts.scheme}://{parts.netloc}",
        limits=RateLimits(per_minute=per_minute),
        timeouts=Timeouts(connect=5.0, read=15.0, total=20.0),
        breaker=BreakerPolicy(failure_threshold=3, cooldown=120.0, probe_timeout=30.0),
        max_body_bytes=_MAX_BODY,
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
        conditional_get=True,
    )


def resolve_feed(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> ResolvedProvider:
    """`resolve`: the feed's own variable, else replay, else its own host; never a shared URL."""
    env = os.environ if environ is None else environ
    if env.get(RSS_BASE_URL_ENV) and not env.get(spec.base_url_env_var):
        log.warning(
            "%s is ignored: one base URL for every feed would serve one outlet's feed as "
            "another's; set %s for feed %s",
            RSS_BASE_URL_ENV,
            spec.base_url_env_var,
            spec.name,
        )
    return resolve(spec, env)


def feed_request(feed: Feed) -> Request:
    parts = urlsplit(feed.url)
    return Request(
        endpoint="feed",
        path=parts.path or "/",
        params=dict(parse_qsl(parts.query, keep_blank_values=True)),
        conditional=True,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _summary(entry: Any) -> str | None:
    summary = _text(entry.get("summary"))
    if summary:
        return summary
    for content in entry.get("content") or ():
        value = _text(content.get("value"))
        if value:
            return value
    return None


def _raw(entry: Any, key: str) -> Any:
    # Plain dict access: FeedParserDict maps a missing `updated*` key onto `published*` with a
    # DeprecationWarning.
    return dict.get(entry, key)


def _item(entry: Any, feed: Feed, channel_language: str | None) -> RawItem:
    link = _text(entry.get("link"))
    parsed_date = _raw(entry, "published_parsed") or _raw(entry, "updated_parsed")
    return RawItem(
        url=urljoin(feed.url, link.strip()) if link else None,
        title=_text(entry.get("title")),
        summary=_summary(entry),
        published=from_struct_time(parsed_date),
        date_text=_text(_raw(entry, "published")) or _text(_raw(entry, "updated")),
        outlet=feed.outlet,
        language=feed.language or channel_language,
    )


def _check_safe(body: bytes) -> None:
    first = _FIRST_ELEMENT.search(body)
    prolog = body[: first.start()] if first else body
    if _ENTITY_DECLARATION.search(prolog):
        raise ParseError("the feed declares XML entities; refused unparsed")


def parse_feed(body: bytes, ctx: ParseContext, *, feed: Feed, normaliser: Normaliser) -> Batch:
    """An RSS 0.9x/1.0/2.0 or Atom body -> its articles; malformed-but-readable XML is noted.

    Raises ParseError for a body that is no feed at all or yields nothing readable.
    """
    _check_safe(body)
    cleaned = _EMPTY_SUMMARY_ELEMENT.sub(b"", body)
    # A stream, never bytes or str: feedparser opens a str that looks like a URL or path.
    parsed = feedparser.parse(io.BytesIO(cleaned), sanitize_html=True, resolve_relative_uris=False)
    entries = list(parsed.get("entries") or ())
    malformed = bool(parsed.get("bozo"))
    if not entries and malformed:
        problem = type(parsed.get("bozo_exception")).__name__
        raise ParseError(f"unreadable feed ({problem}), no items")
    if not entries and not parsed.get("version"):
        raise ParseError("not an RSS or Atom feed")
    channel = parsed.get("feed") or {}
    language = _text(channel.get("language"))
    batch = normaliser.batch([_item(e, feed, language) for e in entries], ctx.received_at)
    if malformed:
        batch.note("malformed_xml")
    return batch
