"""One provider item in, one clean `Article` out (or the reason it was refused), and batches."""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeAlias

from cryptohub.collector_news.canonical import article_id, canonical_url
from cryptohub.collector_news.dates import DatePolicy
from cryptohub.collector_news.markup import clip, to_plain_text
from cryptohub.collector_news.symbols import tag_symbols
from cryptohub.common.events import SYMBOL_PATTERN, Article

__all__ = ["TITLE_MAX", "Anomaly", "Batch", "Normaliser", "RawItem"]

TITLE_MAX: Final = 300
SUMMARY_MAX: Final = 1500
_LANGUAGE: Final = re.compile(r"[a-z]{2,3}")
_SYMBOL: Final = re.compile(SYMBOL_PATTERN)

# What can be wrong with a body or an item; each is counted in
# `cryptohub_news_anomalies_total{source, kind}`. Items with `missing_*`, `bad_*`, `*_date` or
# `removed` are refused; `html_title` and the body-level kinds are noted and the rest goes on.
Anomaly: TypeAlias = str


@dataclass(frozen=True, slots=True)
class RawItem:
    """What a provider says about one story, before any cleaning."""

    url: str | None
    title: str | None
    summary: str | None = None
    published: datetime | None = None
    # The provider's date text, when it had one: a date that did not parse is `bad_date`,
    # not `missing_date`.
    date_text: str | None = None
    outlet: str | None = None
    language: str | None = None
    symbols: tuple[str, ...] = ()


@dataclass(slots=True)
class Batch:
    """A parsed body: the articles it gave and what was wrong with it, by kind."""

    articles: list[Article] = field(default_factory=list)
    anomalies: Counter[Anomaly] = field(default_factory=Counter)

    def note(self, kind: Anomaly, count: int = 1) -> None:
        self.anomalies[kind] += count


def _plain_or_none(value: str | None) -> str | None:
    return (to_plain_text(value).text or None) if value else None


def language_code(value: str | None) -> str | None:
    """`en-US` -> `en`; None unless it is an ISO 639 code."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if _LANGUAGE.fullmatch(primary) else None


@dataclass(frozen=True, slots=True)
class Normaliser:
    """Turns `RawItem`s of one source into Articles under one date policy."""

    source: str
    policy: DatePolicy = field(default_factory=DatePolicy)

    def article(self, item: RawItem, received_at: datetime, batch: Batch) -> Article | None:
        """The Article for `item`, or None with the reason noted in `batch`."""
        url = canonical_url(item.url) if item.url else None
        if url is None:
            batch.note("bad_url" if item.url else "missing_url")
            return None
        title = to_plain_text(item.title or "")
        if title.had_markup:
            batch.note("html_title")
        if not title.text:
            batch.note("missing_title")
            return None
        published = self.policy.judge(item.published, received_at)
        if isinstance(published, str):
            problem = "bad_date" if published == "missing_date" and item.date_text else published
            batch.note(problem)
            return None
        summary = to_plain_text(item.summary or "").text
        hinted = tuple(s.lower() for s in item.symbols if _SYMBOL.match(s.lower()))
        symbols = tuple(sorted({*tag_symbols(title.text, summary), *hinted}))
        return Article(
            source=self.source,
            observed_at=published,
            received_at=received_at,
            id=article_id(url),
            url=url,
            title=clip(title.text, TITLE_MAX),
            summary=clip(summary, SUMMARY_MAX),
            outlet=_plain_or_none(item.outlet),
            language=language_code(item.language),
            symbols=symbols,
        )

    def batch(self, items: list[RawItem], received_at: datetime) -> Batch:
        """Every item normalised; an empty list is noted as `empty_feed`."""
        batch = Batch()
        if not items:
            batch.note("empty_feed")
        for item in items:
            article = self.article(item, received_at, batch)
            if article is not None:
                batch.articles.append(article)
        return batch
