"""Per-provider async rate limiter: token buckets, monthly credits and Retry-After pauses."""

import asyncio
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cryptohub.common.providers.declaration import RateLimits


class RateLimitWaitError(Exception):
    """Acquiring would wait longer than the caller allows; `delay` says how long."""

    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(f"rate limit: {reason}, next slot in {delay:.2f}s")
        self.delay = delay
        self.reason = reason


class _Bucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, per_second: float, capacity: float, now: float) -> None:
        self.rate = per_second
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self, cost: float) -> float:
        missing = cost - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate


def _month(now: datetime) -> tuple[int, int]:
    return now.year, now.month


class RateLimiter:
    """Spaces one provider's calls so its published limits are never exceeded.

    Waiters are served one at a time (FIFO through a lock), so a burst of concurrent calls is
    spread out instead of stampeding the provider when the bucket refills.
    """

    def __init__(
        self,
        limits: RateLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monthly_used: int = 0,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._wall_clock = wall_clock
        now = clock()
        self._buckets: list[tuple[str, _Bucket]] = []
        if limits.per_second:
            rate = limits.per_second
            self._buckets.append(("per-second limit", _Bucket(rate, max(1.0, rate), now)))
        if limits.per_minute:
            rate = limits.per_minute / 60.0
            self._buckets.append(
                ("per-minute limit", _Bucket(rate, max(1.0, limits.per_minute), now))
            )
        self._paused_until = 0.0
        self._month = _month(wall_clock())
        self._monthly_used = monthly_used
        self._lock = asyncio.Lock()

    @property
    def monthly_used(self) -> int:
        return self._monthly_used

    def pause(self, seconds: float) -> None:
        """Stop all calls for `seconds` (a 429's Retry-After); never shortens a longer pause."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def _monthly_left(self) -> float:
        if self._limits.monthly_credits is None:
            return math.inf
        current = _month(self._wall_clock())
        if current != self._month:
            self._month, self._monthly_used = current, 0
        return self._limits.monthly_credits - self._monthly_used

    def delay_for(self, cost: int = 1) -> tuple[float, str]:
        """How long until a call of `cost` credits may go out, and why (inf: quota spent)."""
        now = self._clock()
        if self._monthly_left() < cost:
            return math.inf, "monthly credits exhausted"
        delay, reason = self._paused_until - now, "paused by Retry-After"
        for name, bucket in self._buckets:
            if cost > bucket.capacity:
                return (
                    math.inf,
                    f"a call of {cost} credits exceeds the {name} of {bucket.capacity:g}",
                )
            bucket.refill(now)
            wait = bucket.delay(cost)
            if wait > delay:
                delay, reason = wait, name
        return max(0.0, delay), reason

    async def acquire(self, cost: int = 1, *, max_wait: float = math.inf) -> None:
        """Wait for a slot and take it; RateLimitWaitError if that would take over `max_wait`."""
        async with self._lock:
            while True:
                delay, reason = self.delay_for(cost)
                if delay <= 0:
                    break
                if delay > max_wait or math.isinf(delay):
                    raise RateLimitWaitError(delay, reason)
                await asyncio.sleep(delay)
            now = self._clock()
            for _, bucket in self._buckets:
                bucket.refill(now)
                bucket.tokens -= cost
            self._monthly_used += cost
