"""Reddit listings (`/r/{sub}/new.json`): posts of crypto subreddits as articles.

A link post is the story it links to (so it dedupes against the outlet's own feed); a self post,
or a link to Reddit's own media, is the post itself. Stickied posts (daily threads) and posts
marked NSFW are left out and counted.
"""

from typing import Final
from urllib.parse import urlsplit

import msgspec

from cryptohub.collector_news.dates import from_epoch
from cryptohub.collector_news.normalise import Batch, Normaliser, RawItem
from cryptohub.collector_news.providers.feeds import USER_AGENT
from cryptohub.common.providers import (
    ParseContext,
    ParseError,
    ProviderSpec,
    RateLimits,
    Request,
)

__all__ = ["REDDIT", "parse_listing", "reddit_request"]

_WEB: Final = "https://www.reddit.com"
_OWN_HOSTS: Final = ("reddit.com", "redd.it", "redditmedia.com")

REDDIT: Final = ProviderSpec(
    name="reddit",
    category="news",
    base_url=_WEB,
    # Unauthenticated clients get about ten requests a minute.
    limits=RateLimits(per_minute=10),
    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    conditional_get=True,
)


class _Post(msgspec.Struct):
    title: str
    permalink: str
    created_utc: float | None = None
    url: str | None = None
    selftext: str = ""
    is_self: bool = False
    over_18: bool = False
    stickied: bool = False
    subreddit: str = ""


class _Child(msgspec.Struct):
    kind: str
    data: msgspec.Raw


class _ListingData(msgspec.Struct):
    children: list[_Child]


class _Listing(msgspec.Struct):
    kind: str
    data: _ListingData


_decode_listing = msgspec.json.Decoder(_Listing).decode
_decode_post = msgspec.json.Decoder(_Post).decode


def reddit_request(subreddit: str, *, limit: int = 50) -> Request:
    return Request(
        endpoint=f"r/{subreddit.lower()}",
        path=f"/r/{subreddit}/new.json",
        params={"limit": limit, "raw_json": 1},
        conditional=True,
    )


def _own(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _OWN_HOSTS)


def _item(post: _Post) -> RawItem:
    permalink = _WEB + post.permalink if post.permalink.startswith("/") else post.permalink
    link = post.url if post.url and not post.is_self and not _own(post.url) else permalink
    return RawItem(
        url=link,
        title=post.title,
        summary=post.selftext or None,
        published=from_epoch(post.created_utc),
        date_text=None if post.created_utc is None else str(post.created_utc),
        outlet=f"r/{post.subreddit}" if post.subreddit else "Reddit",
    )


def parse_listing(body: bytes, ctx: ParseContext, *, normaliser: Normaliser) -> Batch:
    """A Reddit Listing of t3 posts -> articles; other kinds, stickies and NSFW are skipped."""
    listing = _decode_listing(body)
    if listing.kind != "Listing":
        raise ParseError(f"expected a Listing, got {listing.kind!r}")
    items: list[RawItem] = []
    skipped = Batch()
    for child in listing.data.children:
        if child.kind != "t3":
            continue
        try:
            post = _decode_post(child.data)
        except msgspec.ValidationError:
            skipped.note("bad_item")
            continue
        if post.stickied:
            skipped.note("filtered_stickied")
        elif post.over_18:
            skipped.note("filtered_nsfw")
        else:
            items.append(_item(post))
    batch = normaliser.batch(items, ctx.received_at)
    batch.anomalies.update(skipped.anomalies)
    if not items and listing.data.children:
        batch.anomalies.pop("empty_feed", None)
    return batch
