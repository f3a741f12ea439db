"""Near-identical headlines: same story in other words of punctuation, case or plural only."""

from datetime import UTC, datetime, timedelta

import pytest

from cryptohub.collector_news.titles import RecentTitles, TitleEntry, fingerprint, near_identical

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bitcoin Hits $100K!", "bitcoin hits $100k"),
        ("SEC Approves Spot Bitcoin ETFs", "SEC approves spot bitcoin ETF"),
        ("Coinbase to list Solana token next week", "Coinbase to List the Solana Token Next Week"),
        (
            "Bitcoin Hovers Under $3,450 as All Top Cryptos See Moderate Losses",
            "Bitcoin Hovers Under $3,450 as Top Cryptos See Moderate Losses",
        ),
        ("Ethereum\u2019s Dencun upgrade goes live", "Ethereum's Dencun Upgrade Goes Live"),
        ("Café owner accepts bitcoin", "Cafe owner accepts Bitcoin"),
    ],
)
def test_same_story(first: str, second: str) -> None:
    assert near_identical(fingerprint(first), fingerprint(second))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "Bitcoin rises 5% after Fed holds rates steady",
            "Bitcoin falls 5% after Fed holds rates steady",
        ),
        ("Bitcoin drops 10% as ETF outflows mount", "Bitcoin drops 5% as ETF outflows mount"),
        ("SEC approves spot bitcoin ETF", "SEC delays decision on spot bitcoin ETF"),
        ("Bitcoin rises", "Bitcoin falls"),
        ("Ether price today", "Bitcoin price today"),
        (
            "Cboe Resubmits the VanEck/SolidX Bitcoin ETF Proposal for SEC Approval",
            "CBOE Re-Applies With US SEC to List Bitcoin Exchange-Traded Fund",
        ),  # the same news from two outlets, worded differently: not near-identical
    ],
)
def test_different_stories(first: str, second: str) -> None:
    assert not near_identical(fingerprint(first), fingerprint(second))


def test_recent_titles_match_only_within_the_window() -> None:
    titles = RecentTitles(window=timedelta(hours=12), similarity=0.9, keep=timedelta(days=7))
    titles.add(TitleEntry("a1", fingerprint("SEC Approves Spot Bitcoin ETFs"), T0))
    match = titles.match(fingerprint("SEC approves spot bitcoin ETF"), T0 + timedelta(hours=3))
    assert match is not None
    assert match.article_id == "a1"
    assert (
        titles.match(fingerprint("SEC approves spot bitcoin ETF"), T0 + timedelta(days=2)) is None
    )
    assert titles.match(fingerprint("Bitcoin falls"), T0) is None


def test_prune_forgets_what_is_older_than_keep() -> None:
    titles = RecentTitles(window=timedelta(hours=12), similarity=0.9, keep=timedelta(days=1))
    titles.add(TitleEntry("old", "old story", T0 - timedelta(days=2)))
    titles.add(TitleEntry("new", "new story", T0))
    titles.prune(T0)
    assert titles.get("old") is None
    assert titles.get("new") is not None


def test_a_discarded_title_no_longer_matches_and_can_come_back() -> None:
    titles = RecentTitles(window=timedelta(hours=12), similarity=0.9, keep=timedelta(days=7))
    long_title = fingerprint("Coinbase to list Solana token next week")
    titles.add(TitleEntry("x", long_title, T0))
    titles.discard("x")
    assert len(titles) == 0
    assert titles.match(long_title, T0) is None
    titles.add(TitleEntry("x", long_title, T0))
    titles.add(TitleEntry("x", long_title, T0))  # the watch echoes our own claim: still one
    assert len(titles) == 1
    match = titles.match(fingerprint("Coinbase to List the Solana Token Next Week"), T0)
    assert match is not None
    assert match.article_id == "x"
