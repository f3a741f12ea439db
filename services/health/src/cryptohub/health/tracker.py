"""Everything health knows about one provider: its window, quota, state and when it last called."""

from datetime import datetime

import msgspec

from cryptohub.common.events import ProviderAttempt, ProviderStateRecord, UtcDateTime
from cryptohub.health.machine import Status, Thresholds, Transition, judge, step
from cryptohub.health.quota import QuotaWatch
from cryptohub.health.window import AttemptWindow

__all__ = ["DOWN", "ProviderMemo", "ProviderTracker"]

DOWN = frozenset({"offline", "half_open"})
_MAX_STEPS = 4  # offline -> half_open -> online can follow from one late attempt


class ProviderMemo(msgspec.Struct, frozen=True, kw_only=True, tag="provider_memo"):
    """What health keeps of a provider in its own KV bucket, beside KV `provider_state`, so a
    restart judges it exactly as before."""

    provider: str
    watched_since: UtcDateTime
    epoch: UtcDateTime | None = None
    last_attempt_at: UtcDateTime | None = None
    down_since: UtcDateTime | None = None
    last_error: str | None = None


class ProviderTracker:
    """One provider: attempts go in, transitions come out."""

    def __init__(
        self,
        provider: str,
        *,
        window: AttemptWindow,
        quota: QuotaWatch,
        thresholds: Thresholds,
        status: Status,
        watched_since: datetime,
    ) -> None:
        self.provider = provider
        self.window = window
        self.quota = quota
        self.thresholds = thresholds
        self.status = status
        self.watched_since = watched_since
        self.last_attempt_at: datetime | None = None
        self.last_error: str | None = None
        self.down_since: datetime | None = status.since if status.state in DOWN else None

    def remember(self, attempt: ProviderAttempt) -> None:
        """Count an attempt without judging it (also how the window is rebuilt at start)."""
        self.window.add(attempt)
        self.quota.observe(attempt)
        at = attempt.observed_at
        if self.last_attempt_at is None or at > self.last_attempt_at:
            self.last_attempt_at = at
        if not attempt.ok:
            kind = attempt.error_kind or "error"
            self.last_error = f"{kind}: {attempt.error}" if attempt.error else kind

    def observe(self, attempt: ProviderAttempt, now: datetime) -> list[Transition]:
        """Count an attempt and take the transitions it calls for, dated by the attempt."""
        self.remember(attempt)
        return self.evaluate(now, at=min(attempt.observed_at, now))

    def evaluate(self, now: datetime, *, at: datetime | None = None) -> list[Transition]:
        """Take every transition due at `now` (cooldowns, calls ageing out of the window)."""
        taken: list[Transition] = []
        for _ in range(_MAX_STEPS):
            figures = self.window.figures(now)
            quota = self.quota.status(now)
            verdict = judge(figures, self.thresholds, quota_exhausted=quota.exhausted)
            transition = step(self.status, figures, verdict, self.thresholds, at or now)
            if transition is None:
                break
            self._apply(transition)
            taken.append(transition)
        return taken

    def _apply(self, transition: Transition) -> None:
        self.status = Status(
            state=transition.current,
            since=transition.at,
            reason=transition.reason,
            next_probe_at=transition.next_probe_at,
        )
        if transition.reset_window is not None:
            self.window.reset(transition.reset_window)
        if transition.current in DOWN:
            if transition.previous not in DOWN:
                self.down_since = transition.at
        else:
            self.down_since = None

    def record(self, now: datetime) -> ProviderStateRecord:
        """The provider's entry in KV `provider_state`."""
        figures = self.window.figures(now)
        latency = self.window.latency_percentiles()
        return ProviderStateRecord(
            provider=self.provider,
            state=self.status.state,
            reason=self.status.reason,
            since=self.status.since,
            next_probe_at=self.status.next_probe_at,
            success_rate=figures.success_rate,
            p50_ms=latency[0] if latency else None,
            p95_ms=latency[1] if latency else None,
            calls=figures.calls,
            last_error=self.last_error,
        )

    def memo(self) -> ProviderMemo:
        return ProviderMemo(
            provider=self.provider,
            watched_since=self.watched_since,
            epoch=self.window.epoch,
            last_attempt_at=self.last_attempt_at,
            down_since=self.down_since,
            last_error=self.last_error,
        )

    def restore(self, memo: ProviderMemo) -> None:
        """Take back what a previous run knew (before its attempts are replayed)."""
        self.watched_since = min(self.watched_since, memo.watched_since)
        if memo.epoch is not None:
            self.window.reset(memo.epoch)
        self.last_attempt_at = memo.last_attempt_at
        self.last_error = memo.last_error
        if self.status.state in DOWN and memo.down_since is not None:
            self.down_since = memo.down_since
