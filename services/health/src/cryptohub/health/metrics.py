"""Health's Prometheus metrics: provider states, transitions, open alerts, notifications."""

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge

from cryptohub.common.events import ProviderState
from cryptohub.health.alertbook import OpenAlert
from cryptohub.health.rules import RULES

__all__ = [
    "attempts_consumed",
    "notifications",
    "set_open_alerts",
    "set_state",
    "transitions",
]

_STATES: tuple[ProviderState, ...] = ("online", "degraded", "offline", "half_open")

provider_state = Gauge(
    "cryptohub_health_provider_state",
    "1 for the state each provider is in (online, degraded, offline, half_open), 0 for the others.",
    ["provider", "state"],
)
transitions = Counter(
    "cryptohub_health_transitions_total",
    "Provider state transitions.",
    ["provider", "previous", "current"],
)
open_alerts = Gauge(
    "cryptohub_health_open_alerts",
    "Alerts open now, by rule and severity.",
    ["rule", "severity"],
)
notifications = Counter(
    "cryptohub_health_notifications_total",
    "Alert notifications by sink and outcome: delivered, retried, failed (gave up), dropped "
    "(queue full).",
    ["sink", "outcome"],
)
attempts_consumed = Counter(
    "cryptohub_health_attempts_consumed_total",
    "ProviderAttempt events health consumed from JetStream.",
)


def set_state(provider: str, state: ProviderState) -> None:
    for candidate in _STATES:
        provider_state.labels(provider, candidate).set(1 if candidate == state else 0)


def set_open_alerts(alerts: Iterable[OpenAlert]) -> None:
    counts = Tally(alert.rule for alert in alerts)
    for rule, severity in RULES.items():
        open_alerts.labels(rule, severity).set(counts.get(rule, 0))
