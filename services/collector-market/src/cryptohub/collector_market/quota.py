"""Quota budgeting: how often each capability may call each provider, from its declared limits.

Every (capability, provider) pair declares a demand: one call of `cost` credits every `interval`
seconds, the worst case where that provider answers every cycle. A provider's budget is the
tightest of its limits as a rate (per second, per minute, monthly credits spread evenly over a
month), times `share` (the fraction one replica may use) and `headroom` for per-second and
per-minute limits (the client's in-call retries need some). When the demands on a provider add
up to more than its budget, every demand on it is slowed by the same factor, so the plan never
spends more than the plan allows. Pure.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptohub.common.providers import RateLimits

SECONDS_PER_MONTH = 31 * 86_400  # the longest month: the budget holds in every month


@dataclass(frozen=True, slots=True)
class Demand:
    capability: str
    provider: str
    interval: float  # seconds between calls wished for
    cost: int = 1


@dataclass(frozen=True, slots=True)
class Allotment:
    """The spacing a demand gets; `reason` says which limit slowed it, if any did."""

    demand: Demand
    spacing: float

    reason: str | None = None

    @property
    def slowed(self) -> bool:
        return self.spacing > self.demand.interval * (1 + 1e-9)


@dataclass(frozen=True, slots=True)
class Budget:
    """Credits per second a provider's limits allow us, and the limit that binds."""

    rate: float
    binding: str | None


def budget(limits: RateLimits, *, share: float = 1.0, headroom: float = 0.8) -> Budget:
    candidates: list[tuple[float, str]] = []
    if limits.per_second:
        candidates.append((limits.per_second * headroom, f"{limits.per_second:g} calls/s"))
    if limits.per_minute:
        candidates.append((limits.per_minute / 60 * headroom, f"{limits.per_minute:g} calls/min"))
    if limits.monthly_credits:
        rate = limits.monthly_credits / SECONDS_PER_MONTH
        candidates.append((rate, f"{limits.monthly_credits:,} credits/month"))
    if not candidates:
        return Budget(math.inf, None)
    rate, binding = min(candidates)
    return Budget(rate * share, binding)


def plan(
    demands: Iterable[Demand],
    limits: Mapping[str, RateLimits],
    *,
    share: float = 1.0,
    headroom: float = 0.8,
) -> dict[tuple[str, str], Allotment]:
    """The spacing of every (capability, provider) demand, within each provider's budget."""
    by_provider: dict[str, list[Demand]] = {}
    for demand in demands:
        by_provider.setdefault(demand.provider, []).append(demand)
    allotted: dict[tuple[str, str], Allotment] = {}
    for provider, wanted in by_provider.items():
        allowed = budget(limits.get(provider, RateLimits()), share=share, headroom=headroom)
        spent = sum(d.cost / d.interval for d in wanted)
        factor = spent / allowed.rate if spent > allowed.rate else 1.0
        for demand in wanted:
            reason = None
            if factor > 1.0:
                reason = (
                    f"{provider} allows {allowed.binding}"
                    + (f" x {share:g} share" if share < 1 else "")
                    + f"; all capabilities together would use {factor:.1f}x that"
                )
            allotted[demand.capability, provider] = Allotment(
                demand, demand.interval * factor, reason
            )
    return allotted
