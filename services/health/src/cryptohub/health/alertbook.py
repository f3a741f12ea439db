"""Open alerts, one per cause: which to open and which to resolve when the causes change."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from cryptohub.common.events import Alert, AlertSeverity, AlertState, UtcDateTime
from cryptohub.health.rules import Assessment, Cause

__all__ = ["AlertBook", "OpenAlert", "Plan", "alert_event", "alert_id"]


class OpenAlert(msgspec.Struct, frozen=True, kw_only=True, tag="open_alert"):
    """An alert that is open, as health keeps it in its own KV bucket across restarts."""

    key: str
    id: str
    rule: str
    severity: AlertSeverity
    message: str
    opened_at: UtcDateTime
    provider: str | None = None
    category: str | None = None
    # Set just before the resolve event is published: a restart in between republishes the
    # same event (same id, state and time), which JetStream drops as a duplicate.
    resolved_at: UtcDateTime | None = None


def alert_id(cause: Cause) -> str:
    """The alert's id: its cause and when the cause began, e.g.
    `provider_offline.coingecko.20261121T101503.250000Z`. Open and resolve events share it, and
    the same occurrence always gets the same id, so a republished event is a duplicate."""
    return f"{cause.key}.{cause.since.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"


@dataclass(frozen=True, slots=True)
class Plan:
    to_open: tuple[OpenAlert, ...]
    to_resolve: tuple[OpenAlert, ...]

    def __bool__(self) -> bool:
        return bool(self.to_open or self.to_resolve)


class AlertBook:
    """The open alerts by cause key. `plan` says what to do; `opened` / `resolved` record what
    was done, so an alert whose publish failed is planned again next time."""

    def __init__(self, alerts: Iterable[OpenAlert] = ()) -> None:
        self._open = {alert.key: alert for alert in alerts}

    @property
    def open(self) -> list[OpenAlert]:
        return sorted(self._open.values(), key=lambda a: (a.opened_at, a.key))

    def get(self, key: str) -> OpenAlert | None:
        return self._open.get(key)

    def plan(self, assessment: Assessment) -> Plan:
        wanted = {cause.key: cause for cause in assessment.causes}
        to_open = tuple(
            OpenAlert(
                key=cause.key,
                id=alert_id(cause),
                rule=cause.rule,
                severity=cause.severity,
                message=cause.message,
                opened_at=cause.since,
                provider=cause.provider,
                category=cause.category,
            )
            for key, cause in wanted.items()
            if key not in self._open
        )
        to_resolve = tuple(
            alert
            for key, alert in self._open.items()
            if alert.resolved_at is not None or (key not in wanted and key not in assessment.held)
        )
        return Plan(to_open, to_resolve)

    def opened(self, alert: OpenAlert) -> None:
        self._open[alert.key] = alert

    def resolved(self, alert: OpenAlert) -> None:
        self._open.pop(alert.key, None)


def alert_event(
    alert: OpenAlert, state: AlertState, *, at: datetime, received_at: datetime, source: str
) -> Alert:
    """The event for `alert`: opened at its cause's start, resolved at `at` (or when it was
    marked resolved)."""
    verb = "resolved: " if state == "resolved" else ""
    return Alert(
        id=alert.id,
        rule=alert.rule,
        severity=alert.severity,
        state=state,
        message=f"{verb}{alert.message}",
        provider=alert.provider,
        category=alert.category,
        source=source,
        observed_at=alert.opened_at if state == "open" else (alert.resolved_at or at),
        received_at=received_at,
    )
