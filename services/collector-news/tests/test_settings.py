"""Settings: defaults, validation, and what replay mode changes."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from cryptohub.collector_news.settings import FeedSettings, Settings


def test_defaults_poll_the_five_outlets_and_three_subreddits() -> None:
    settings = Settings()
    assert [f.name for f in settings.feeds] == [
        "coindesk",
        "cointelegraph",
        "decrypt",
        "bitcoin_magazine",
        "the_block",
    ]
    assert settings.reddit_subreddits == ["CryptoCurrency", "Bitcoin", "ethereum"]
    assert settings.service == "collector-news"
    assert settings.article_max_age == timedelta(days=7)
    assert settings.dedupe_ttl == timedelta(days=8)  # max age plus a day of margin


def test_replay_mode_accepts_the_recorded_era() -> None:
    assert Settings(replay=True).article_max_age > timedelta(days=365 * 20)


@pytest.mark.parametrize(
    "feeds",
    [
        [{"name": "CoinDesk", "url": "https://x.example/rss", "outlet": "X"}],  # not a slug
        [{"name": "x", "url": "file:///etc/passwd", "outlet": "X"}],
        [{"name": "reddit", "url": "https://x.example/rss", "outlet": "X"}],  # taken
        [
            {"name": "x", "url": "https://x.example/rss", "outlet": "X"},
            {"name": "x", "url": "https://y.example/rss", "outlet": "Y"},
        ],
    ],
)
def test_bad_feed_lists_are_refused(feeds: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        Settings(feeds=[FeedSettings(**f) for f in feeds])


def test_bad_subreddit_is_refused() -> None:
    with pytest.raises(ValidationError, match="subreddit"):
        Settings(reddit_subreddits=["../../api"])
