"""The provider state machine: online -> degraded -> offline -> half_open -> online."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeAlias

from cryptohub.common.events import ProviderState
from cryptohub.health.window import Figures

__all__ = ["Level", "Status", "Thresholds", "Transition", "Verdict", "judge", "step"]

Level: TypeAlias = Literal["ok", "degraded", "offline"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a provider is degraded or offline, and how it comes back."""

    min_calls: int = 5
    degraded_error_rate: float = 0.2
    offline_error_rate: float = 0.5
    degraded_consecutive_failures: int = 3
    offline_consecutive_failures: int = 5
    degraded_slow_rate: float = 0.5
    degraded_invalid_rate: float = 0.2
    cooldown: timedelta = timedelta(seconds=30)
    half_open_successes: int = 2


@dataclass(frozen=True, slots=True)
class Verdict:
    """How bad the window looks, and why."""

    level: Level
    reason: str


@dataclass(slots=True)
class Status:
    """One provider's place in the machine (what KV `provider_state` publishes)."""

    state: ProviderState
    since: datetime
    reason: str
    next_probe_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of state. `reset_window`: judge the provider afresh from this moment."""

    previous: ProviderState
    current: ProviderState
    reason: str
    at: datetime
    next_probe_at: datetime | None = None
    reset_window: datetime | None = None


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def judge(figures: Figures, t: Thresholds, *, quota_exhausted: bool = False) -> Verdict:
    """The level the window's figures call for, with the first reason that applies."""
    f = figures
    enough = f.calls >= t.min_calls
    if f.consecutive_failures >= t.offline_consecutive_failures:
        return Verdict("offline", f"{f.consecutive_failures} consecutive failures")
    if enough and f.error_rate >= t.offline_error_rate:
        return Verdict(
            "offline",
            f"error rate {_pct(f.error_rate)} over {f.calls} calls "
            f"(offline at {_pct(t.offline_error_rate)})",
        )
    if f.consecutive_failures >= t.degraded_consecutive_failures:
        return Verdict("degraded", f"{f.consecutive_failures} consecutive failures")
    if enough and f.error_rate >= t.degraded_error_rate:
        return Verdict(
            "degraded",
            f"error rate {_pct(f.error_rate)} over {f.calls} calls "
            f"(degraded at {_pct(t.degraded_error_rate)})",
        )
    if enough and f.invalid_rate >= t.degraded_invalid_rate:
        return Verdict(
            "degraded", f"{_pct(f.invalid_rate)} of {f.calls} calls returned invalid data"
        )
    if enough and f.slow_rate >= t.degraded_slow_rate:
        return Verdict("degraded", f"{_pct(f.slow_rate)} of {f.calls} calls were slow")
    if quota_exhausted:
        return Verdict("degraded", "rate limit exhausted")
    return Verdict("ok", "calls succeed")


def step(
    status: Status, figures: Figures, verdict: Verdict, t: Thresholds, at: datetime
) -> Transition | None:
    """The transition the machine takes at `at`, or None.

    `figures` of a half-open provider cover only what happened since it became half-open.
    """
    match status.state:
        case "online" | "degraded" if verdict.level == "offline":
            return Transition(status.state, "offline", verdict.reason, at, at + t.cooldown)
        case "online" if verdict.level == "degraded":
            return Transition("online", "degraded", verdict.reason, at)
        case "degraded" if verdict.level == "ok":
            return Transition("degraded", "online", verdict.reason, at)
        case "offline" if status.next_probe_at is not None and at >= status.next_probe_at:
            probe = status.next_probe_at
            return Transition(
                "offline", "half_open", "cooldown over; probing", probe, reset_window=probe
            )
        case "half_open" if figures.failures:
            return Transition("half_open", "offline", "half-open probe failed", at, at + t.cooldown)
        case "half_open" if figures.successes >= t.half_open_successes:
            reason = f"{figures.successes} successful probes after the cooldown"
            return Transition("half_open", "online", reason, at, reset_window=at)
    return None
