"""Per-asset aggregation over 1h / 24h windows, weighted by confidence and recency."""

from datetime import UTC, datetime, timedelta

import pytest

from cryptohub.sentiment.refresh import refresh_time
from cryptohub.sentiment.windows import Contribution, aggregate

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def c(minutes_ago: float, score: float, confidence: float = 1.0, aid: str = "a") -> Contribution:
    return Contribution(aid, NOW - timedelta(minutes=minutes_ago), score, confidence)


def test_only_articles_inside_the_window_count() -> None:
    items = [c(10, 0.8, aid="new"), c(90, -0.8, aid="old")]
    one_hour = aggregate(items, now=NOW, window=HOUR, half_life=HOUR / 2, threshold=0.15)
    day = aggregate(items, now=NOW, window=24 * HOUR, half_life=6 * HOUR, threshold=0.15)
    assert one_hour.article_count == 1
    assert one_hour.score == pytest.approx(0.8)
    assert one_hour.label == "bullish"
    assert day.article_count == 2


def test_recent_articles_weigh_more_than_old_ones() -> None:
    items = [c(1, 1.0, aid="recent"), c(600, -1.0, aid="old")]
    day = aggregate(items, now=NOW, window=24 * HOUR, half_life=6 * HOUR, threshold=0.15)
    assert day.score > 0.3
    assert day.label == "bullish"


def test_confident_predictions_weigh_more_than_unsure_ones() -> None:
    items = [c(5, -1.0, confidence=0.9, aid="sure"), c(5, 1.0, confidence=0.3, aid="unsure")]
    result = aggregate(items, now=NOW, window=HOUR, half_life=HOUR / 2, threshold=0.15)
    assert result.score == pytest.approx((-0.9 + 0.3) / 1.2)
    assert result.label == "bearish"
    assert result.confidence == pytest.approx(0.6)


def test_empty_window_says_zero_articles_and_zero_confidence() -> None:
    result = aggregate([c(120, 0.9)], now=NOW, window=HOUR, half_life=HOUR / 2, threshold=0.15)
    assert (result.article_count, result.confidence, result.score) == (0, 0.0, 0.0)


def test_small_scores_are_neutral() -> None:
    result = aggregate([c(5, 0.1)], now=NOW, window=HOUR, half_life=HOUR / 2, threshold=0.15)
    assert result.label == "neutral"


def test_refresh_time_is_the_same_for_every_replica_within_a_period() -> None:
    a = refresh_time(NOW + timedelta(seconds=5), 60)
    b = refresh_time(NOW + timedelta(seconds=59), 60)
    assert a == b == NOW
