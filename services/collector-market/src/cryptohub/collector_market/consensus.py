"""The consensus price of one asset from independent providers' fresh quotes. Pure.

1. Keep each provider's latest quote, and only if it is fresh: observed no longer than
   `max_age` ago (and not from the future beyond a small clock skew). Stale quotes never count.
2. Reject outliers: a quote further from the median than `mad_k` scaled median absolute
   deviations (1.4826 x MAD estimates a standard deviation) is rejected, unless it is within
   `min_deviation_pct` of the median (quotes that agree to within that are never outliers, so
   identical quotes do not make a hair's difference an outlier).
3. The consensus is the median of the rest. Their spread is (max - min) / consensus. If
   providers still disagree by more than `max_spread_pct`, there is no consensus: we do not
   know which is right, and we do not average nonsense.
4. Confidence in [0, 1]: agreement (inliers / fresh) x coverage (inliers / target, capped) x
   tightness (1 / (1 + spread in %)). A single provider gets at most `single_confidence`.
"""

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

MAD_SCALE = 1.4826


@dataclass(frozen=True, slots=True)
class Quote:
    provider: str
    price: float
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class Policy:
    max_age: timedelta
    mad_k: float = 3.0
    min_deviation_pct: float = 1.0
    max_spread_pct: float = 5.0
    target_sources: int = 3
    single_confidence: float = 0.25
    max_clock_skew: timedelta = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Rejected:
    provider: str
    price: float
    deviation_pct: float  # signed, from the consensus


@dataclass(frozen=True, slots=True)
class Consensus:
    price: float
    contributors: tuple[str, ...]
    rejected: tuple[Rejected, ...]
    stale: tuple[str, ...]
    spread_pct: float
    confidence: float

    @property
    def single_source(self) -> bool:
        return len(self.contributors) == 1


@dataclass(frozen=True, slots=True)
class NoConsensus:
    reason: str
    stale: tuple[str, ...] = ()


def latest_by_provider(quotes: Iterable[Quote]) -> dict[str, Quote]:
    latest: dict[str, Quote] = {}
    for quote in quotes:
        held = latest.get(quote.provider)
        if held is None or quote.observed_at > held.observed_at:
            latest[quote.provider] = quote
    return latest


def is_fresh(quote: Quote, now: datetime, policy: Policy) -> bool:
    age = now - quote.observed_at
    return -policy.max_clock_skew <= age <= policy.max_age


def consensus(quotes: Iterable[Quote], *, now: datetime, policy: Policy) -> Consensus | NoConsensus:
    """The consensus of `quotes` as of `now`, or why there is none."""
    latest = latest_by_provider(q for q in quotes if math.isfinite(q.price) and q.price > 0)
    fresh = [q for q in latest.values() if is_fresh(q, now, policy)]
    stale = tuple(sorted(p for p, q in latest.items() if not is_fresh(q, now, policy)))
    if not fresh:
        return NoConsensus("no fresh quote", stale)
    median = statistics.median(q.price for q in fresh)
    deviations = [abs(q.price - median) for q in fresh]
    mad = statistics.median(deviations)
    threshold = max(policy.mad_k * MAD_SCALE * mad, median * policy.min_deviation_pct / 100)
    inliers = [q for q, d in zip(fresh, deviations, strict=True) if d <= threshold]
    outliers = [q for q, d in zip(fresh, deviations, strict=True) if d > threshold]
    price = statistics.median(q.price for q in inliers)
    prices = [q.price for q in inliers]
    spread = (max(prices) - min(prices)) / price * 100
    if spread > policy.max_spread_pct:
        return NoConsensus(
            f"{len(inliers)} providers disagree by {spread:.1f}% (over {policy.max_spread_pct}%)",
            stale,
        )
    if len(inliers) == 1:
        confidence = policy.single_confidence
    else:
        agreement = len(inliers) / len(fresh)
        coverage = min(1.0, len(inliers) / policy.target_sources)
        tightness = 1.0 / (1.0 + spread)
        confidence = min(1.0, agreement * coverage * tightness)
    return Consensus(
        price=price,
        contributors=tuple(sorted(q.provider for q in inliers)),
        rejected=tuple(
            Rejected(q.provider, q.price, (q.price - price) / price * 100)
            for q in sorted(outliers, key=lambda q: q.provider)
        ),
        stale=stale,
        spread_pct=spread,
        confidence=confidence,
    )
