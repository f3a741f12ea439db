"""NewsAPI `/v2/everything` (key `NEWSAPI_API_KEY` in the `X-Api-Key` header).

The developer plan allows 100 requests a day; the default poll interval (15 min) stays under it
and the monthly credit limit of the client enforces it. Articles NewsAPI withdrew come back as
`"[Removed]"` placeholders; they are skipped and counted.
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
    ParseError,
    ProviderSpec,
    RateLimits,
    Request,
)

__all__ = ["DEFAULT_QUERY", "newsapi_request", "newsapi_spec", "parse_everything"]

DEFAULT_QUERY: Final = "bitcoin OR ethereum OR crypto OR cryptocurrency OR blockchain"
_REMOVED: Final = "[Removed]"


def newsapi_spec(*, monthly_credits: int | None = 3000) -> ProviderSpec:
    return ProviderSpec(
        name="newsapi",
        category="news",
        base_url="https://newsapi.org",
        key=ApiKey("NEWSAPI_API_KEY", KeyPlacement.HEADER, "X-Api-Key"),
        limits=RateLimits(per_minute=10, monthly_credits=monthly_credits),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        conditional_get=True,
    )


class _Source(msgspec.Struct):
    name: str | None = None


class _Article(msgspec.Struct):
    title: str | None = None
    url: str | None = None
    description: str | None = None
    publishedAt: str | None = None  # noqa: N815 - the wire name
    source: _Source | None = None


class _Answer(msgspec.Struct):
    status: str
    articles: list[_Article] = []
    code: str | None = None
    message: str | None = None


_decode: Final = msgspec.json.Decoder(_Answer).decode


def newsapi_request(
    *, query: str = DEFAULT_QUERY, language: str = "en", page_size: int = 50
) -> Request:
    return Request(
        endpoint="everything",
        path="/v2/everything",
        params={"q": query, "language": language, "sortBy": "publishedAt", "pageSize": page_size},
        conditional=True,
    )


def parse_everything(
    body: bytes, ctx: ParseContext, *, normaliser: Normaliser, language: str | None
) -> Batch:
    """An `everything` answer -> articles in `language` (what the request asked for)."""
    answer = _decode(body)
    if answer.status != "ok":
        raise ParseError(f"NewsAPI answered status {answer.status!r} ({answer.code or 'no code'})")
    items: list[RawItem] = []
    removed = 0
    for article in answer.articles:
        if article.title == _REMOVED:
            removed += 1
            continue
        items.append(
            RawItem(
                url=article.url,
                title=article.title,
                summary=article.description,
                published=from_iso(article.publishedAt),
                date_text=article.publishedAt,
                outlet=article.source.name if article.source else None,
                language=language,
            )
        )
    batch = normaliser.batch(items, ctx.received_at)
    if removed:
        batch.note("removed", removed)
        if not items:
            batch.anomalies.pop("empty_feed", None)
    return batch
