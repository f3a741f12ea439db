"""Rate-limit quota: near exhaustion at 80 %, exhausted at 0 or on a 429, and when it clears."""

from datetime import UTC, datetime, timedelta

from cryptohub.common.events import ProviderAttempt, RateLimitSeen
from cryptohub.health.quota import QuotaWatch

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def attempt(
    at: datetime, rate_limit: RateLimitSeen | None, *, limited: bool = False
) -> ProviderAttempt:
    return ProviderAttempt(
        provider="alpha",
        endpoint="price",
        ok=not limited,
        status=429 if limited else 200,
        latency_ms=10.0,
        error_kind="rate_limited" if limited else None,
        rate_limit=rate_limit,
        source="test",
        observed_at=at,
        received_at=at,
    )


def watch() -> QuotaWatch:
    return QuotaWatch(near_ratio=0.8, hold=timedelta(seconds=60))


def test_near_exhaustion_from_remaining_and_limit() -> None:
    q = watch()
    q.observe(attempt(T0, RateLimitSeen(limit=100, remaining=30)))
    assert not q.status(T0).near
    q.observe(attempt(T0 + timedelta(seconds=1), RateLimitSeen(limit=100, remaining=20)))
    status = q.status(T0 + timedelta(seconds=1))
    assert status.near
    assert not status.exhausted
    assert status.used == 0.8
    assert status.near_since == T0 + timedelta(seconds=1)
    assert "20 of 100" in status.detail


def test_zero_remaining_is_exhausted_until_the_reset() -> None:
    q = watch()
    q.observe(attempt(T0, RateLimitSeen(limit=100, remaining=0, reset_seconds=30)))
    assert q.status(T0 + timedelta(seconds=29)).exhausted
    after = q.status(T0 + timedelta(seconds=31))
    assert not after.exhausted
    assert not after.near
    assert after.used is None


def test_429_is_exhausted_for_its_retry_after_or_until_a_normal_answer() -> None:
    q = watch()
    q.observe(attempt(T0, RateLimitSeen(retry_after_seconds=5), limited=True))
    assert q.status(T0 + timedelta(seconds=4)).exhausted
    assert not q.status(T0 + timedelta(seconds=6)).exhausted
    q.observe(attempt(T0 + timedelta(seconds=10), None, limited=True))
    assert q.status(T0 + timedelta(seconds=69)).exhausted, "no Retry-After: held for `hold`"
    q.observe(attempt(T0 + timedelta(seconds=20), None))
    assert not q.status(T0 + timedelta(seconds=20)).exhausted


def test_a_newer_reading_with_room_clears_near_exhaustion() -> None:
    q = watch()
    q.observe(attempt(T0, RateLimitSeen(limit=10, remaining=1)))
    assert q.status(T0).near
    q.observe(attempt(T0 + timedelta(seconds=1), RateLimitSeen(limit=10, remaining=9)))
    status = q.status(T0 + timedelta(seconds=1))
    assert not status.near
    assert status.near_since is None
