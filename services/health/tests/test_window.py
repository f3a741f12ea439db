"""The sliding window: by count, by time, running counts, reset, percentiles."""

from datetime import UTC, datetime, timedelta

from cryptohub.common.events import ErrorKind, ProviderAttempt
from cryptohub.health.window import AttemptWindow

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def attempt(
    ok: bool = True,
    *,
    at: datetime = T0,
    latency_ms: float = 100.0,
    kind: ErrorKind | None = None,
) -> ProviderAttempt:
    if not ok and kind is None:
        kind = "http_5xx"
    return ProviderAttempt(
        provider="alpha",
        endpoint="price",
        ok=ok,
        latency_ms=latency_ms,
        error_kind=None if ok else kind,
        source="test",
        observed_at=at,
        received_at=at,
    )


def window(max_calls: int = 5, span_s: float = 60.0) -> AttemptWindow:
    return AttemptWindow(max_calls=max_calls, span=timedelta(seconds=span_s), slow_ms=1000.0)


def test_count_window_keeps_only_the_last_calls() -> None:
    w = window(max_calls=4)
    for i in range(4):
        w.add(attempt(ok=False, at=T0 + timedelta(seconds=i)))
    for i in range(4, 6):
        w.add(attempt(ok=True, at=T0 + timedelta(seconds=i)))
    f = w.figures(T0 + timedelta(seconds=6))
    assert (f.calls, f.failures, f.successes) == (4, 2, 2)
    assert f.error_rate == 0.5
    assert f.consecutive_failures == 0


def test_time_window_forgets_calls_older_than_the_span() -> None:
    w = window(max_calls=100, span_s=10)
    w.add(attempt(ok=False, at=T0))
    w.add(attempt(ok=False, at=T0 + timedelta(seconds=5)))
    w.add(attempt(ok=True, at=T0 + timedelta(seconds=9)))
    assert w.figures(T0 + timedelta(seconds=9)).failures == 2
    later = w.figures(T0 + timedelta(seconds=12))
    assert (later.calls, later.failures) == (2, 1)
    assert w.figures(T0 + timedelta(seconds=30)).calls == 0


def test_consecutive_failures_count_the_trailing_run_and_skip_429s() -> None:
    w = window(max_calls=10)
    w.add(attempt(ok=True))
    w.add(attempt(ok=False))
    w.add(attempt(ok=False, kind="rate_limited"))
    w.add(attempt(ok=False, kind="timeout"))
    f = w.figures(T0)
    assert f.consecutive_failures == 2
    assert (f.failures, f.rate_limited) == (2, 1), "a 429 is not a failure of the provider"


def test_slow_and_invalid_calls_are_counted() -> None:
    w = window(max_calls=10)
    w.add(attempt(latency_ms=1500.0))
    w.add(attempt(latency_ms=10.0))
    w.add(attempt(ok=False, kind="invalid_data", at=T0 + timedelta(seconds=1)))
    w.add(attempt(ok=False, kind="parse", at=T0 + timedelta(seconds=2)))
    f = w.figures(T0 + timedelta(seconds=2))
    assert f.slow == 1
    assert f.invalid == 2
    assert f.invalid_rate == 0.5
    assert f.first_invalid_at == T0 + timedelta(seconds=1)


def test_reset_drops_earlier_calls_and_ignores_late_ones() -> None:
    w = window(max_calls=10)
    w.add(attempt(ok=False, at=T0))
    w.add(attempt(ok=True, at=T0 + timedelta(seconds=2)))
    w.reset(T0 + timedelta(seconds=1))
    assert w.figures(T0 + timedelta(seconds=2)).calls == 1
    assert not w.add(attempt(ok=False, at=T0 + timedelta(milliseconds=500)))
    assert w.figures(T0 + timedelta(seconds=2)).failures == 0


def test_latency_percentiles_are_nearest_rank() -> None:
    w = window(max_calls=100)
    assert w.latency_percentiles() is None
    for ms in range(1, 21):
        w.add(attempt(latency_ms=float(ms * 10)))
    assert w.latency_percentiles() == (100.0, 190.0)
