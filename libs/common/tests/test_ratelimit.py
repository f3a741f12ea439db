import math
from datetime import UTC, datetime

import pytest

from cryptohub.common.providers.declaration import RateLimits
from cryptohub.common.providers.ratelimit import RateLimiter, RateLimitWaitError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_per_second_bucket_spaces_calls() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_second=2), clock=clock)
    await limiter.acquire(max_wait=0)
    await limiter.acquire(max_wait=0)
    delay, reason = limiter.delay_for()
    assert reason == "per-second limit"
    assert delay == pytest.approx(0.5)
    with pytest.raises(RateLimitWaitError):
        await limiter.acquire(max_wait=0.1)
    clock.now += 0.5
    await limiter.acquire(max_wait=0)


async def test_per_minute_limit_is_the_binding_one_when_tighter() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_second=10, per_minute=3), clock=clock)
    for _ in range(3):
        await limiter.acquire(max_wait=0)
    delay, reason = limiter.delay_for()
    assert reason == "per-minute limit"
    assert delay == pytest.approx(20.0)


async def test_pause_blocks_until_it_expires_and_never_shortens() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(), clock=clock)
    limiter.pause(2.0)
    limiter.pause(1.0)
    assert limiter.paused_for() == pytest.approx(2.0)
    with pytest.raises(RateLimitWaitError, match="Retry-After"):
        await limiter.acquire(max_wait=1.0)
    clock.now += 2.0
    await limiter.acquire(max_wait=0)


async def test_monthly_credits_run_out_and_reset_with_the_month() -> None:
    month = [datetime(2026, 11, 30, 23, 0, tzinfo=UTC)]
    limiter = RateLimiter(
        RateLimits(monthly_credits=2), clock=FakeClock(), wall_clock=lambda: month[0]
    )
    await limiter.acquire(max_wait=0)
    await limiter.acquire(max_wait=0)
    assert limiter.delay_for() == (math.inf, "monthly credits exhausted")
    month[0] = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    await limiter.acquire(max_wait=0)
    assert limiter.monthly_used == 1


async def test_a_call_costing_more_than_a_bucket_holds_is_refused_not_waited_for_forever() -> None:
    limiter = RateLimiter(RateLimits(per_second=50), clock=FakeClock())
    with pytest.raises(RateLimitWaitError, match="exceeds the per-second limit"):
        await limiter.acquire(cost=80)
