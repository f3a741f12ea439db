"""The state machine's rules, one transition at a time."""

from datetime import UTC, datetime, timedelta

from cryptohub.health.machine import Status, Thresholds, judge, step
from cryptohub.health.window import Figures

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
T = Thresholds(
    min_calls=4,
    degraded_error_rate=0.25,
    offline_error_rate=0.5,
    degraded_consecutive_failures=2,
    offline_consecutive_failures=4,
    degraded_slow_rate=0.5,
    degraded_invalid_rate=0.25,
    cooldown=timedelta(seconds=30),
    half_open_successes=2,
)


def figures(
    calls: int,
    failures: int = 0,
    *,
    consecutive: int = 0,
    slow: int = 0,
    invalid: int = 0,
    successes: int | None = None,
) -> Figures:
    return Figures(
        calls=calls,
        successes=calls - failures if successes is None else successes,
        failures=failures,
        rate_limited=0,
        invalid=invalid,
        slow=slow,
        consecutive_failures=consecutive,
        first_invalid_at=T0 if invalid else None,
    )


def test_judge_levels_and_reasons() -> None:
    assert judge(figures(10), T).level == "ok"
    assert judge(figures(10, 3, consecutive=1), T).level == "degraded"
    assert judge(figures(10, 5, consecutive=1), T).level == "offline"
    offline = judge(figures(2, 2, consecutive=4), T)
    assert offline.level == "offline"
    assert offline.reason == "4 consecutive failures"
    assert judge(figures(2, 2, consecutive=2), T).level == "degraded"
    assert judge(figures(10, 0, slow=5), T).reason == "50% of 10 calls were slow"
    assert judge(figures(10, 0, invalid=3), T).level == "degraded"
    assert judge(figures(10), T, quota_exhausted=True).reason == "rate limit exhausted"


def test_rates_need_min_calls() -> None:
    assert judge(figures(3, 2, consecutive=1), T).level == "ok"


def test_online_degrades_then_goes_offline_with_a_probe_time() -> None:
    status = Status("online", T0, "ok")
    bad = figures(10, 3, consecutive=1)
    t = step(status, bad, judge(bad, T), T, T0)
    assert t is not None
    assert (t.previous, t.current) == ("online", "degraded")
    worse = figures(10, 6, consecutive=4)
    t = step(Status("degraded", T0, "x"), worse, judge(worse, T), T, T0 + timedelta(seconds=1))
    assert t is not None
    assert t.current == "offline"
    assert t.next_probe_at == T0 + timedelta(seconds=31)


def test_degraded_recovers_when_the_window_is_clean_again() -> None:
    good = figures(10, 1)
    t = step(Status("degraded", T0, "x"), good, judge(good, T), T, T0)
    assert t is not None
    assert t.current == "online"


def test_offline_waits_for_the_cooldown_then_half_opens_with_a_fresh_window() -> None:
    status = Status("offline", T0, "x", next_probe_at=T0 + timedelta(seconds=30))
    good = figures(10)
    assert step(status, good, judge(good, T), T, T0 + timedelta(seconds=29)) is None
    t = step(status, good, judge(good, T), T, T0 + timedelta(seconds=45))
    assert t is not None
    assert t.current == "half_open"
    assert t.at == T0 + timedelta(seconds=30), "dated by the end of the cooldown"
    assert t.reset_window == T0 + timedelta(seconds=30)


def test_half_open_needs_the_configured_successes() -> None:
    status = Status("half_open", T0, "x")
    one = figures(1)
    assert step(status, one, judge(one, T), T, T0) is None
    two = figures(2)
    t = step(status, two, judge(two, T), T, T0 + timedelta(seconds=1))
    assert t is not None
    assert t.current == "online"
    assert t.reset_window == t.at


def test_a_failed_probe_sends_it_back_offline_for_another_cooldown() -> None:
    status = Status("half_open", T0, "x")
    failed = figures(2, 1, consecutive=1)
    t = step(status, failed, judge(failed, T), T, T0 + timedelta(seconds=5))
    assert t is not None
    assert t.current == "offline"
    assert t.next_probe_at == T0 + timedelta(seconds=35)
