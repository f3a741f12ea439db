"""The pure core end to end: attempts and time in, transitions out; a restored monitor agrees."""

from datetime import UTC, datetime, timedelta

from cryptohub.common.events import ProviderAttempt, ProviderStateRecord
from cryptohub.health.machine import Thresholds
from cryptohub.health.monitor import Change, Monitor, MonitorConfig
from cryptohub.health.rules import AlertPolicy

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CONFIG = MonitorConfig(
    thresholds=Thresholds(
        min_calls=4,
        degraded_error_rate=0.25,
        offline_error_rate=0.5,
        degraded_consecutive_failures=2,
        offline_consecutive_failures=4,
        cooldown=timedelta(seconds=30),
        half_open_successes=2,
    ),
    policy=AlertPolicy(group_wait=timedelta(seconds=5)),
    window_calls=10,
    window_span=timedelta(minutes=5),
)


def attempt(provider: str, ok: bool, at: datetime) -> ProviderAttempt:
    return ProviderAttempt(
        provider=provider,
        endpoint="price",
        ok=ok,
        status=200 if ok else 503,
        latency_ms=40.0 if ok else 900.0,
        error_kind=None if ok else "http_5xx",
        error=None if ok else "HTTP 503",
        source="test",
        observed_at=at,
        received_at=at,
    )


def moves(changes: list[Change]) -> list[tuple[str, str]]:
    return [(c.transition.previous, c.transition.current) for c in changes]


def feed(monitor: Monitor, provider: str, oks: str, start: datetime) -> list[Change]:
    """`oks` like "++--": one attempt per character, a second apart."""
    changes: list[Change] = []
    for i, mark in enumerate(oks):
        at = start + timedelta(seconds=i)
        changes += monitor.observe(attempt(provider, mark == "+", at), at)
    return changes


def test_full_cycle_online_degraded_offline_half_open_online() -> None:
    m = Monitor(CONFIG, started_at=T0)
    assert moves(feed(m, "alpha", "++++--", T0)) == [("online", "degraded")]
    assert moves(feed(m, "alpha", "--", T0 + timedelta(seconds=6))) == [("degraded", "offline")]
    record = m.record("alpha", T0 + timedelta(seconds=8))
    assert record.state == "offline"
    assert record.next_probe_at == T0 + timedelta(seconds=37)
    assert record.last_error == "http_5xx: HTTP 503"
    assert record.calls == 8
    assert record.success_rate == 0.5
    assert m.tick(T0 + timedelta(seconds=30)) == []
    assert moves(m.tick(T0 + timedelta(seconds=40))) == [("offline", "half_open")]
    assert m.record("alpha", T0 + timedelta(seconds=40)).calls == 0, "probes are judged afresh"
    assert moves(feed(m, "alpha", "++", T0 + timedelta(seconds=41))) == [("half_open", "online")]
    # The failures before the outage no longer count: one failure now is not enough to degrade.
    assert feed(m, "alpha", "+++-+", T0 + timedelta(seconds=43)) == []
    assert m.record("alpha", T0 + timedelta(seconds=48)).state == "online"


def test_failed_probe_goes_back_offline() -> None:
    m = Monitor(CONFIG, started_at=T0)
    feed(m, "alpha", "----", T0)
    assert m.record("alpha", T0).state == "offline"
    m.tick(T0 + timedelta(seconds=40))
    changes = feed(m, "alpha", "-", T0 + timedelta(seconds=41))
    assert moves(changes) == [("half_open", "offline")]


def test_a_late_attempt_after_the_cooldown_half_opens_and_counts_as_a_probe() -> None:
    m = Monitor(CONFIG, started_at=T0)
    feed(m, "alpha", "----", T0)
    changes = feed(m, "alpha", "++", T0 + timedelta(seconds=40))
    assert moves(changes) == [("offline", "half_open"), ("half_open", "online")]


def test_restored_monitor_judges_exactly_like_the_original() -> None:
    original = Monitor(CONFIG, started_at=T0)
    history = [
        attempt("alpha", mark == "+", T0 + timedelta(seconds=i))
        for i, mark in enumerate("++++----")
    ]
    history += [
        attempt("beta", mark == "+", T0 + timedelta(seconds=i)) for i, mark in enumerate("+++++---")
    ]
    for a in history:
        original.observe(a, a.observed_at)
    original.tick(T0 + timedelta(seconds=40))  # alpha half-open
    history.append(attempt("alpha", True, T0 + timedelta(seconds=41)))
    original.observe(history[-1], history[-1].observed_at)
    now = T0 + timedelta(seconds=42)
    records: list[ProviderStateRecord] = [original.record(p, now) for p in ("alpha", "beta")]
    memos = [original.memo(p) for p in ("alpha", "beta")]

    restored = Monitor(CONFIG, started_at=now)
    restored.restore(records, memos, [])
    for a in history:
        restored.replay(a)
    for p in ("alpha", "beta"):
        assert restored.record(p, now) == original.record(p, now)
    # The next attempts lead both to the same transitions.
    nxt = [attempt("alpha", True, now), attempt("beta", False, now)]
    assert (
        [moves(original.observe(a, now)) for a in nxt]
        == [moves(restored.observe(a, now)) for a in nxt]
        == [[("half_open", "online")], [("degraded", "offline")]]
    )


def test_offline_record_without_probe_time_gets_one_on_restore() -> None:
    m = Monitor(CONFIG, started_at=T0)
    m.restore(
        [ProviderStateRecord(provider="alpha", state="offline", reason="x", since=T0)], [], []
    )
    assert moves(m.tick(T0 + timedelta(seconds=31))) == [("offline", "half_open")]


def test_slow_calls_are_judged_against_each_providers_own_threshold() -> None:
    config = MonitorConfig(
        thresholds=CONFIG.thresholds, slow_ms=2000.0, slow_ms_by_provider={"fast": 100.0}
    )
    m = Monitor(config, started_at=T0)
    for i in range(4):  # successful calls of 900 ms: slow for `fast` only
        at = T0 + timedelta(seconds=i)
        for provider in ("fast", "patient"):
            m.observe(
                ProviderAttempt(
                    provider=provider,
                    endpoint="price",
                    ok=True,
                    latency_ms=900.0,
                    source="test",
                    observed_at=at,
                    received_at=at,
                ),
                at,
            )
    now = T0 + timedelta(seconds=4)
    assert m.record("fast", now).state == "degraded"
    assert m.record("fast", now).reason == "100% of 4 calls were slow"
    assert m.record("patient", now).state == "online"
