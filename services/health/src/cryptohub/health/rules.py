"""Alert rules: which causes are true now, given every provider's view; category grouping."""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptohub.common.events import AlertSeverity, ProviderState
from cryptohub.health.quota import QuotaStatus
from cryptohub.health.window import Figures

__all__ = ["RULES", "AlertPolicy", "Assessment", "Cause", "ProviderView", "assess"]

_DOWN: frozenset[ProviderState] = frozenset({"offline", "half_open"})

RULES: dict[str, AlertSeverity] = {
    "provider_offline": "critical",
    "category_offline": "critical",
    "provider_degraded": "warning",
    "rate_limit_near": "warning",
    "rate_limit_exhausted": "critical",
    "provider_stale": "warning",
    "invalid_data": "warning",
}


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """When each rule fires."""

    degraded_for: timedelta = timedelta(minutes=10)
    stale_after: timedelta = timedelta(minutes=5)
    group_wait: timedelta = timedelta(seconds=10)
    min_calls: int = 5
    invalid_rate: float = 0.1
    category_majority: float = 0.5
    category_min_providers: int = 2


@dataclass(frozen=True, slots=True)
class ProviderView:
    """One provider as the rules see it. `state` is None for a provider never heard from."""

    provider: str
    category: str | None
    state: ProviderState | None
    since: datetime | None
    down_since: datetime | None
    last_attempt_at: datetime | None
    watched_since: datetime
    expected: bool
    figures: Figures | None = None
    quota: QuotaStatus | None = None


@dataclass(frozen=True, slots=True)
class Cause:
    """Something worth an alert, true since `since`. `key` names the cause: one alert per key."""

    key: str
    rule: str
    message: str
    since: datetime
    provider: str | None = None
    category: str | None = None

    @property
    def severity(self) -> AlertSeverity:
        return RULES[self.rule]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The causes true now. `held`: causes also true but covered by a category alert; an alert
    already open for one of them stays open, none is opened."""

    causes: tuple[Cause, ...]
    held: frozenset[str]


def _key(rule: str, target: str) -> str:
    return f"{rule}.{target}"


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():g}s"


def _provider_causes(v: ProviderView, policy: AlertPolicy, now: datetime) -> Iterable[Cause]:
    p = v.provider

    def cause(rule: str, message: str, since: datetime) -> Cause:
        return Cause(_key(rule, p), rule, message, since, provider=p, category=v.category)

    if v.state in _DOWN:
        down = v.down_since or v.since or now
        if now - down >= policy.group_wait:
            yield cause("provider_offline", f"{p} is {v.state} since {down:%H:%M:%S}Z", down)
    if v.state == "degraded" and v.since is not None and now - v.since >= policy.degraded_for:
        yield cause(
            "provider_degraded",
            f"{p} degraded for over {_seconds(policy.degraded_for)}",
            v.since,
        )
    if v.expected and v.state not in _DOWN:
        last = v.last_attempt_at or v.watched_since
        if now - last >= policy.stale_after:
            what = (
                "no calls at all"
                if v.last_attempt_at is None
                else f"no calls since {last:%H:%M:%S}Z"
            )
            yield cause(
                "provider_stale",
                f"{p}: {what} (expected every {_seconds(policy.stale_after)} at least)",
                last + policy.stale_after,
            )
    q = v.quota
    if q is not None and q.near and q.near_since is not None and q.used is not None:
        yield cause(
            "rate_limit_near",
            f"{p} has used {q.used * 100:.0f}% of its rate limit ({q.detail})",
            q.near_since,
        )
    if q is not None and q.exhausted and q.exhausted_since is not None:
        yield cause(
            "rate_limit_exhausted", f"{p} rate limit exhausted ({q.detail})", q.exhausted_since
        )
    f = v.figures
    if (
        f is not None
        and f.first_invalid_at is not None
        and f.calls >= policy.min_calls
        and f.invalid_rate >= policy.invalid_rate
    ):
        yield cause(
            "invalid_data",
            f"{p}: {f.invalid} of the last {f.calls} calls returned data rejected as invalid",
            f.first_invalid_at,
        )


def _category_causes(
    views: list[ProviderView], policy: AlertPolicy, now: datetime, open_keys: frozenset[str]
) -> tuple[list[Cause], set[str]]:
    members: dict[str, list[ProviderView]] = defaultdict(list)
    for v in views:
        if v.category is not None and v.state is not None:
            members[v.category].append(v)
    causes: list[Cause] = []
    held: set[str] = set()
    for category, group in sorted(members.items()):
        key = _key("category_offline", category)
        failing = sorted(
            (v.down_since or v.since or now, v.provider) for v in group if v.state in _DOWN
        )
        needed = math.floor(policy.category_majority * len(group)) + 1
        raised = len(group) >= policy.category_min_providers and len(failing) >= needed
        # Once open, the category alert covers its members until the last one is back, so a
        # category that recovers one by one gets no alert per straggler.
        if not raised and not (key in open_keys and failing):
            continue
        names = ", ".join(sorted(name for _, name in failing))
        causes.append(
            Cause(
                key,
                "category_offline",
                f"{len(failing)} of {len(group)} {category} providers are offline: {names}",
                failing[needed - 1][0] if raised else failing[0][0],
                category=category,
            )
        )
        held.update(_key("provider_offline", name) for _, name in failing)
    return causes, held


def assess(
    views: Iterable[ProviderView],
    policy: AlertPolicy,
    now: datetime,
    open_keys: Iterable[str] = (),
) -> Assessment:
    """Every cause true at `now`. When more than `category_majority` of a category's providers
    (at least `category_min_providers` of them) are offline, one category cause replaces their
    provider_offline causes; `open_keys` (alerts open now) keeps it until all are back."""
    views = list(views)
    category, held = _category_causes(views, policy, now, frozenset(open_keys))
    causes = [c for v in views for c in _provider_causes(v, policy, now) if c.key not in held]
    return Assessment(tuple(category + causes), frozenset(held))
