"""Every provider's tracker and the open alerts: attempts and time in, transitions and plans out."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptohub.common.events import ProviderAttempt, ProviderStateRecord
from cryptohub.health.alertbook import AlertBook, OpenAlert, Plan
from cryptohub.health.machine import Status, Thresholds, Transition
from cryptohub.health.quota import QuotaWatch
from cryptohub.health.rules import AlertPolicy, ProviderView, assess
from cryptohub.health.tracker import ProviderMemo, ProviderTracker
from cryptohub.health.window import AttemptWindow

__all__ = ["Change", "Monitor", "MonitorConfig"]


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    """What the monitor needs from the settings (pure values, no framework)."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    window_calls: int = 50
    window_span: timedelta = timedelta(minutes=5)
    slow_ms: float = 2000.0
    slow_ms_by_provider: Mapping[str, float] = field(default_factory=dict)
    near_ratio: float = 0.8
    quota_hold: timedelta = timedelta(seconds=60)
    categories: Mapping[str, str] = field(default_factory=dict)
    expected: tuple[str, ...] = ()
    forget_after: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Change:
    provider: str
    transition: Transition


class Monitor:
    """Pure core of health: no I/O. The service feeds it and carries out what it returns."""

    def __init__(self, config: MonitorConfig, *, started_at: datetime) -> None:
        self.config = config
        self.started_at = started_at
        self.trackers: dict[str, ProviderTracker] = {}
        # Expected (configured) providers never heard from, and since when they are watched.
        self.unheard: dict[str, datetime] = dict.fromkeys(config.expected, started_at)
        self.alerts = AlertBook()

    # --- restoring a previous run

    def restore(
        self,
        records: Iterable[ProviderStateRecord],
        memos: Iterable[ProviderMemo],
        alerts: Iterable[OpenAlert],
    ) -> None:
        """Take back the states health published (KV `provider_state`) and its own memory."""
        for record in records:
            status = Status(record.state, record.since, record.reason, record.next_probe_at)
            if status.state == "offline" and status.next_probe_at is None:
                status.next_probe_at = record.since + self.config.thresholds.cooldown
            self.trackers[record.provider] = self._new_tracker(record.provider, status)
            self.unheard.pop(record.provider, None)
        for memo in memos:
            tracker = self.trackers.get(memo.provider)
            if tracker is not None:
                tracker.restore(memo)
            elif memo.last_attempt_at is None and memo.provider in self.unheard:
                self.unheard[memo.provider] = min(self.unheard[memo.provider], memo.watched_since)
        self.alerts = AlertBook(alerts)

    def replay(self, attempt: ProviderAttempt) -> None:
        """Rebuild a window from the attempt stream: counted, not judged."""
        tracker = self._tracker_for(attempt)
        tracker.remember(attempt)

    # --- running

    def observe(self, attempt: ProviderAttempt, now: datetime) -> list[Change]:
        tracker = self._tracker_for(attempt)
        return [Change(tracker.provider, t) for t in tracker.observe(attempt, now)]

    def tick(self, now: datetime) -> list[Change]:
        """Transitions that time alone brings: cooldowns over, failures ageing out."""
        return [
            Change(name, t)
            for name, tracker in self.trackers.items()
            for t in tracker.evaluate(now)
        ]

    def plan_alerts(self, now: datetime) -> Plan:
        open_keys = [alert.key for alert in self.alerts.open]
        return self.alerts.plan(assess(self.views(now), self.config.policy, now, open_keys))

    def views(self, now: datetime) -> list[ProviderView]:
        categories = self.config.categories
        views = [
            ProviderView(
                provider=name,
                category=categories.get(name),
                state=t.status.state,
                since=t.status.since,
                down_since=t.down_since,
                last_attempt_at=t.last_attempt_at,
                watched_since=t.watched_since,
                expected=self._expected(name, t.last_attempt_at, now),
                figures=t.window.figures(now),
                quota=t.quota.status(now),
            )
            for name, t in self.trackers.items()
        ]
        views.extend(
            ProviderView(
                provider=name,
                category=categories.get(name),
                state=None,
                since=None,
                down_since=None,
                last_attempt_at=None,
                watched_since=since,
                expected=True,
            )
            for name, since in self.unheard.items()
        )
        return views

    def record(self, provider: str, now: datetime) -> ProviderStateRecord:
        return self.trackers[provider].record(now)

    def memo(self, provider: str) -> ProviderMemo:
        return self.trackers[provider].memo()

    def unheard_memos(self) -> list[ProviderMemo]:
        """Memos of expected providers never heard from (when their watch began)."""
        return [ProviderMemo(provider=p, watched_since=s) for p, s in self.unheard.items()]

    def _expected(self, provider: str, last: datetime | None, now: datetime) -> bool:
        if provider in self.config.expected:
            return True
        return last is not None and now - last < self.config.forget_after

    def _tracker_for(self, attempt: ProviderAttempt) -> ProviderTracker:
        name = attempt.provider
        tracker = self.trackers.get(name)
        if tracker is None:
            status = Status("online", attempt.observed_at, "first call seen")
            tracker = self._new_tracker(name, status)
            tracker.watched_since = min(
                self.unheard.pop(name, attempt.observed_at), attempt.observed_at
            )
            self.trackers[name] = tracker
        return tracker

    def _new_tracker(self, provider: str, status: Status) -> ProviderTracker:
        c = self.config
        return ProviderTracker(
            provider,
            window=AttemptWindow(
                max_calls=c.window_calls,
                span=c.window_span,
                slow_ms=c.slow_ms_by_provider.get(provider, c.slow_ms),
            ),
            quota=QuotaWatch(near_ratio=c.near_ratio, hold=c.quota_hold),
            thresholds=c.thresholds,
            status=status,
            watched_since=status.since,
        )
