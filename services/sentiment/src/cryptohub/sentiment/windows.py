"""Per-asset sentiment over a time window, weighted by each article's confidence and recency."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptohub.common.events import SentimentLabel

__all__ = ["Aggregate", "Contribution", "aggregate", "label_for"]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One scored article, as an asset's window keeps it."""

    article_id: str
    published_at: datetime
    score: float
    confidence: float


@dataclass(frozen=True, slots=True)
class Aggregate:
    score: float
    label: SentimentLabel
    article_count: int
    confidence: float


def label_for(score: float, threshold: float) -> SentimentLabel:
    if score >= threshold:
        return "bullish"
    if score <= -threshold:
        return "bearish"
    return "neutral"


def aggregate(
    contributions: Iterable[Contribution],
    *,
    now: datetime,
    window: timedelta,
    half_life: timedelta,
    threshold: float,
) -> Aggregate:
    """Articles published in (now - window, now] (a slightly future date counts as now).

    Each weighs recency x confidence, recency = 0.5 ** (age / half_life): score is the weighted
    mean score, confidence the recency-weighted mean confidence. An empty window gives
    article_count 0 and confidence 0: nothing is known, and the neutral label says nothing.
    """
    start = now - window
    weight_sum = weighted_score = recency_sum = weighted_confidence = 0.0
    count = 0
    for c in contributions:
        if c.published_at <= start:
            continue
        age = max(0.0, (now - c.published_at).total_seconds())
        recency = 0.5 ** (age / half_life.total_seconds())
        weight = recency * c.confidence
        count += 1
        weight_sum += weight
        weighted_score += weight * c.score
        recency_sum += recency
        weighted_confidence += recency * c.confidence
    if count == 0:
        return Aggregate(score=0.0, label="neutral", article_count=0, confidence=0.0)
    score = weighted_score / weight_sum if weight_sum > 0 else 0.0
    score = min(1.0, max(-1.0, score))
    confidence = min(1.0, max(0.0, weighted_confidence / recency_sum))
    return Aggregate(
        score=score,
        label=label_for(score, threshold),
        article_count=count,
        confidence=confidence,
    )
