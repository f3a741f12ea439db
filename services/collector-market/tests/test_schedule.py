"""Schedules: deterministic jittered slots, and a loop that survives a failing cycle."""

import asyncio
from datetime import datetime

import pytest

from cryptohub.collector_market.schedule import Slots, run_every


def test_slots_are_jittered_within_the_interval_and_the_same_for_every_replica() -> None:
    a, b = Slots("prices", 30.0, 0.2), Slots("prices", 30.0, 0.2)
    times = [a.fire_time(k) for k in range(1000, 1050)]
    assert times == [b.fire_time(k) for k in range(1000, 1050)]
    offsets = [t - k * 30.0 for k, t in zip(range(1000, 1050), times, strict=True)]
    assert all(0 <= o < 6.0 for o in offsets)
    assert len({round(o, 6) for o in offsets}) > 40  # jittered, not constant


def test_schedules_of_different_capabilities_do_not_fire_together() -> None:
    prices, candles = Slots("prices", 30.0, 0.2), Slots("candles_btc_1m", 30.0, 0.2)
    assert sum(prices.fire_time(k) == candles.fire_time(k) for k in range(100)) == 0


def test_next_after_is_strictly_later() -> None:
    slots = Slots("x", 10.0, 0.1)
    k, when = slots.next_after(1_000_000.0)
    assert when > 1_000_000.0
    assert slots.next_after(when)[1] > when
    assert k * 10.0 <= when < (k + 1) * 10.0


async def test_a_failing_cycle_is_logged_and_the_schedule_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    seen: list[datetime] = []

    async def job(at: datetime) -> None:
        seen.append(at)
        if len(seen) == 1:
            raise RuntimeError("provider body exploded")
        if len(seen) == 3:
            stop.set()

    async with asyncio.timeout(5):
        await run_every(Slots("flaky", 0.05, 0.1), job, stop)
    assert len(seen) == 3
    assert seen == sorted(seen)
    assert "flaky: cycle at" in caplog.text
