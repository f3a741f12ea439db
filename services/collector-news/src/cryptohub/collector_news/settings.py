"""Settings of collector-news, from CRYPTOHUB_* environment variables, read once in main()."""

import re
from datetime import timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cryptohub.collector_news.providers.cryptopanic import DEFAULT_PATH as CRYPTOPANIC_PATH
from cryptohub.collector_news.providers.feeds import DEFAULT_FEEDS, Feed
from cryptohub.collector_news.providers.newsapi import DEFAULT_QUERY
from cryptohub.common.events import SLUG_PATTERN
from cryptohub.common.settings import ServiceSettings

__all__ = ["FeedSettings", "Settings"]

_SLUG: Final = re.compile(SLUG_PATTERN)
_REPLAY_MAX_AGE: Final = timedelta(days=365 * 30)
_OTHER_PROVIDERS: Final = frozenset({"reddit", "cryptopanic", "newsapi", "alternative_me"})
_SUBREDDIT: Final = re.compile(r"[A-Za-z0-9_]{2,21}")


class FeedSettings(BaseModel):
    """One RSS/Atom feed: `{"name": "coindesk", "url": "https://...", "outlet": "CoinDesk"}`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Provider slug: metrics, attempts, health, base URL variable.")
    url: str
    outlet: str
    language: str | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"feed name must be a lower-case slug (a-z, 0-9, _, -), got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"feed url must be http(s), got {value!r}")
        return value

    def feed(self) -> Feed:
        return Feed(self.name, self.url, self.outlet, self.language)


def _default_feeds() -> list[FeedSettings]:
    return [FeedSettings(name=f.name, url=f.url, outlet=f.outlet) for f in DEFAULT_FEEDS]


class Settings(ServiceSettings):
    """Everything collector-news reads; each field is `CRYPTOHUB_<FIELD>` (lists as JSON)."""

    service: str = "collector-news"

    feeds: list[FeedSettings] = Field(default_factory=_default_feeds)
    feed_interval_s: float = Field(default=300.0, gt=0)
    feed_requests_per_minute: float = Field(default=6.0, gt=0)

    reddit_subreddits: list[str] = Field(default=["CryptoCurrency", "Bitcoin", "ethereum"])
    reddit_interval_s: float = Field(default=300.0, gt=0)
    reddit_limit: int = Field(default=50, ge=1, le=100)

    cryptopanic_interval_s: float = Field(default=600.0, gt=0)
    cryptopanic_path: str = CRYPTOPANIC_PATH
    cryptopanic_monthly_credits: int | None = Field(default=None, ge=1)

    newsapi_interval_s: float = Field(default=900.0, gt=0)
    newsapi_query: str = Field(default=DEFAULT_QUERY, min_length=1, max_length=500)
    newsapi_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    newsapi_monthly_credits: int | None = Field(default=3000, ge=1)

    fear_greed_enabled: bool = True
    fear_greed_interval_s: float = Field(default=600.0, gt=0)
    fear_greed_history_limit: int = Field(default=0, ge=0, description="0: the whole history.")

    article_max_age_h: float = Field(default=168.0, gt=0)
    future_skew_s: float = Field(default=600.0, ge=0)
    title_window_h: float = Field(default=12.0, gt=0)
    title_similarity: float = Field(default=0.9, ge=0.5, le=1.0)
    dedupe_bucket: str = Field(default="news_dedupe", pattern=r"^[A-Za-z0-9_-]+$")
    dedupe_margin_h: float = Field(default=24.0, gt=0)

    first_poll_spread_s: float = Field(default=10.0, ge=0)

    @field_validator("reddit_subreddits")
    @classmethod
    def _subreddits(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _SUBREDDIT.fullmatch(name):
                raise ValueError(f"not a subreddit name: {name!r}")
        return value

    @field_validator("feeds")
    @classmethod
    def _unique_feeds(cls, value: list[FeedSettings]) -> list[FeedSettings]:
        names = [feed.name for feed in value]
        if len(set(names)) != len(names):
            raise ValueError(f"feed names must be unique, got {names}")
        taken = _OTHER_PROVIDERS.intersection(names)
        if taken:
            raise ValueError(f"feed names {sorted(taken)} are other providers' names")
        return value

    @property
    def article_max_age(self) -> timedelta:
        """The oldest article accepted. Replayed bodies (`CRYPTOHUB_REPLAY`, set by
        `cryptohub up --replay`) are years old by nature: there only the 2009 floor applies."""
        return _REPLAY_MAX_AGE if self.replay else timedelta(hours=self.article_max_age_h)

    @property
    def title_window(self) -> timedelta:
        return timedelta(hours=self.title_window_h)

    @property
    def dedupe_ttl(self) -> timedelta:
        """How long a story is remembered: the oldest accepted article plus a margin."""
        return self.article_max_age + timedelta(hours=self.dedupe_margin_h)
