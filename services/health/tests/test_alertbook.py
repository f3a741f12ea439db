"""One open alert per cause: opened once, resolved when the cause clears, kept while held."""

from datetime import UTC, datetime, timedelta

from cryptohub.health.alertbook import AlertBook, alert_event, alert_id
from cryptohub.health.rules import Assessment, Cause

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
OFFLINE = Cause("provider_offline.alpha", "provider_offline", "alpha is offline", T0, "alpha")


def test_a_cause_opens_one_alert_however_often_it_is_seen() -> None:
    book = AlertBook()
    plan = book.plan(Assessment((OFFLINE,), frozenset()))
    (alert,) = plan.to_open
    assert alert.id == "provider_offline.alpha.20261121T100000.000000Z"
    assert (alert.severity, alert.provider, alert.opened_at) == ("critical", "alpha", T0)
    book.opened(alert)
    again = Cause(OFFLINE.key, OFFLINE.rule, "alpha is still offline", T0, "alpha")
    assert not book.plan(Assessment((again,), frozenset()))


def test_an_unpublished_alert_is_planned_again() -> None:
    book = AlertBook()
    assert book.plan(Assessment((OFFLINE,), frozenset())).to_open
    assert book.plan(Assessment((OFFLINE,), frozenset())).to_open, "opened() was never called"


def test_cleared_cause_resolves_held_cause_stays_open() -> None:
    book = AlertBook()
    (alert,) = book.plan(Assessment((OFFLINE,), frozenset())).to_open
    book.opened(alert)
    assert not book.plan(Assessment((), frozenset({OFFLINE.key}))), "held by a category alert"
    plan = book.plan(Assessment((), frozenset()))
    assert plan.to_resolve == (alert,)
    book.resolved(alert)
    assert book.open == []


def test_same_occurrence_same_id_new_occurrence_new_id() -> None:
    later = Cause(OFFLINE.key, OFFLINE.rule, "x", T0 + timedelta(minutes=5), "alpha")
    assert alert_id(OFFLINE) == alert_id(Cause(OFFLINE.key, OFFLINE.rule, "y", T0, "alpha"))
    assert alert_id(OFFLINE) != alert_id(later)


def test_events_share_the_id_and_say_when() -> None:
    book = AlertBook()
    (alert,) = book.plan(Assessment((OFFLINE,), frozenset())).to_open
    now = T0 + timedelta(minutes=3)
    opened = alert_event(alert, "open", at=now, received_at=now, source="health")
    resolved = alert_event(alert, "resolved", at=now, received_at=now, source="health")
    assert opened.id == resolved.id
    assert (opened.observed_at, resolved.observed_at) == (T0, now)
    assert resolved.message == "resolved: alpha is offline"
