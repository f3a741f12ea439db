"""CryptoPanic posts (`/api/v1/posts/`, key `CRYPTOPANIC_API_KEY` as `auth_token`).

A post's own `url` is CryptoPanic's page; `original_url` (given on some plans) is the outlet's
article, preferred so the story dedupes against the outlet's feed. The coins CryptoPanic tagged
(`currencies`, `instruments` in its v2 API) are added to the symbols found in the text.
"""

from typing import Final

import msgspec

from cryptohub.collector_news.dates import from_iso
from cryptohub.collector_news.normalise import Batch, Normaliser, RawItem
from cryptohub.collector_news.providers.feeds import USER_AGENT
from cryptohub.common.providers import (
    ApiKey,
    KeyPlacement,
    ParseContext,
    ProviderSpec,
    RateLimits,
    Request,
)

__all__ = ["CRYPTOPANIC", "DEFAULT_PATH", "cryptopanic_request", "parse_posts"]

DEFAULT_PATH: Final = "/api/v1/posts/"


def cryptopanic_spec(*, monthly_credits: int | None = None) -> ProviderSpec:
    return ProviderSpec(
        name="cryptopanic",
        category="news",
        base_url="https://cryptopanic.com",
        key=ApiKey("CRYPTOPANIC_API_KEY", KeyPlacement.QUERY, "auth_token"),
        limits=RateLimits(per_second=1, monthly_credits=monthly_credits),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        conditional_get=True,
    )


CRYPTOPANIC: Final = cryptopanic_spec()


class _Coin(msgspec.Struct):
    code: str


class _Source(msgspec.Struct):
    title: str | None = None
    region: str | None = None
    domain: str | None = None


class _Post(msgspec.Struct):
    title: str | None = None
    url: str | None = None
    original_url: str | None = None
    published_at: str | None = None
    kind: str | None = None
    description: str | None = None
    source: _Source | None = None
    currencies: list[_Coin] | None = None
    instruments: list[_Coin] | None = None


class _Page(msgspec.Struct):
    results: list[_Post]


_decode: Final = msgspec.json.Decoder(_Page).decode


def cryptopanic_request(
    *, path: str = DEFAULT_PATH, kind: str = "news", regions: str = "en"
) -> Request:
    return Request(
        endpoint="posts",
        path=path,
        params={"public": "true", "kind": kind, "regions": regions},
        conditional=True,
    )


def _item(post: _Post) -> RawItem:
    source = post.source or _Source()
    coins = [*(post.currencies or ()), *(post.instruments or ())]
    return RawItem(
        url=post.original_url or post.url,
        title=post.title,
        summary=post.description,
        published=from_iso(post.published_at),
        date_text=post.published_at,
        outlet=source.title or source.domain,
        language=source.region,
        symbols=tuple(coin.code for coin in coins),
    )


def parse_posts(body: bytes, ctx: ParseContext, *, normaliser: Normaliser) -> Batch:
    """A page of posts -> articles (media posts, videos included, are kept: they are news)."""
    page = _decode(body)
    return normaliser.batch([_item(post) for post in page.results], ctx.received_at)
