"""The lexicon fallback on real headlines from the recorded news feeds."""

from collections.abc import Callable

import pytest

from cryptohub.sentiment.vader import VaderModel

# Headlines quoted from fixtures/providers/rss/*.xml (CoinDesk and Cointelegraph, January 2019).
POSITIVE = [
    ("rss/cointelegraph.xml", "Global Pharma Giant Merck Wins US Blockchain, AI Patent"),
    (
        "rss/cointelegraph.xml",
        "Coincheck Q3 Finance Report Shows Twofold Improvement Since Trading Resumed",
    ),
    ("rss/coindesk_full_2019-01.xml", "Crypto Exchange Gemini Passes Security Audit"),
]
NEGATIVE = [
    (
        "rss/cointelegraph.xml",
        "Florida Appeals Court Reinstates Felony Charges for Unregistered Bitcoin Sale",
    ),
    ("rss/coindesk_full_2019-01.xml", "NEM Foundation, Nearly Broke, Plans Layoffs and Pivot"),
    ("rss/cointelegraph.xml", "Bitcoin Hovers Under $3,450 as All Top Cryptos See Moderate Losses"),
]
NEUTRAL = [
    ("rss/cointelegraph.xml", "Nasdaq Reveals 7 Crypto Exchanges Are Using Its Market Monitoring"),
]


@pytest.fixture(scope="module")
def vader() -> VaderModel:
    return VaderModel()


@pytest.mark.parametrize(("feed", "headline"), POSITIVE)
def test_clearly_positive_headline_is_bullish(
    vader: VaderModel, recorded: Callable[[str], str], feed: str, headline: str
) -> None:
    assert headline in recorded(feed)
    (p,) = vader.predict([headline])
    assert p.label == "bullish"
    assert p.score > 0.3


@pytest.mark.parametrize(("feed", "headline"), NEGATIVE)
def test_clearly_negative_headline_is_bearish(
    vader: VaderModel, recorded: Callable[[str], str], feed: str, headline: str
) -> None:
    assert headline in recorded(feed)
    (p,) = vader.predict([headline])
    assert p.label == "bearish"
    assert p.score < -0.2


@pytest.mark.parametrize(("feed", "headline"), NEUTRAL)
def test_headline_without_sentiment_words_is_neutral(
    vader: VaderModel, recorded: Callable[[str], str], feed: str, headline: str
) -> None:
    assert headline in recorded(feed)
    (p,) = vader.predict([headline])
    assert (p.label, p.score) == ("neutral", 0.0)


def test_vader_names_itself_and_claims_no_class_probabilities(vader: VaderModel) -> None:
    (p,) = vader.predict(["Bitcoin soars"])
    assert vader.name == "vader"
    assert vader.revision
    assert p.probabilities == {}
    assert 0.0 <= p.confidence <= 1.0
