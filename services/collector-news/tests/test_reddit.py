"""Reddit listing parsing on the recorded r/AskReddit body (the only Reddit recording; same
Listing/t3 shape as r/CryptoCurrency)."""

from collections.abc import Callable
from datetime import UTC, datetime

from cryptohub.collector_news.normalise import Normaliser
from cryptohub.collector_news.providers.reddit import parse_listing, reddit_request
from cryptohub.common.providers import ParseContext


def test_recorded_listing(
    recorded: Callable[[str], bytes],
    ctx: Callable[[str], ParseContext],
    recorded_era: Callable[[str], Normaliser],
) -> None:
    body = recorded("reddit/r_askreddit_new_limit100_oauth.json")
    batch = parse_listing(body, ctx("reddit"), normaliser=recorded_era("reddit"))
    assert batch.anomalies["filtered_nsfw"] == 4  # 100 posts, 4 marked over_18
    assert len(batch.articles) == 96
    first = batch.articles[0]
    assert first.title == (
        "[Serious] Parents of Reddit, what's the biggest lie about yourself you've told your kids?"
    )
    # A self post is the post itself: its permalink, canonical.
    assert first.url == (
        "https://www.reddit.com/r/AskReddit/comments/48fbm9/serious_parents_of_reddit_whats_the_biggest_lie/"
    )
    assert first.observed_at == datetime(2016, 3, 1, 8, 37, 38, tzinfo=UTC)  # created_utc
    assert first.outlet == "r/AskReddit"
    assert first.source == "reddit"
    assert first.language is None  # Reddit does not say
    assert all(a.observed_at.tzinfo is UTC for a in batch.articles)
    one_thing = next(a for a in batch.articles if a.title.startswith("If you only can live"))
    assert one_thing.symbols == ()  # "one thing" is not Harmony ONE


def test_request_asks_for_the_newest_posts_of_the_subreddit() -> None:
    request = reddit_request("CryptoCurrency", limit=25)
    assert request.path == "/r/CryptoCurrency/new.json"
    assert request.params == {"limit": 25, "raw_json": 1}
    assert request.conditional
