"""Each capability polls on its own interval with jitter, on slots every replica computes alike.

Slot k of a schedule fires at `k * interval + jitter_k` seconds after the Unix epoch, where
`jitter_k` (up to `jitter` of the interval) comes from a hash of the schedule's name and k. So
capabilities do not fire together, and two replicas fire the same slot at the same moment: what
they observe in it carries the same time and the same fact id.
"""

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

log = logging.getLogger(__name__)

Job = Callable[[datetime], Awaitable[None]]


class Slots:
    """The firing times of one schedule."""

    def __init__(self, name: str, interval: float, jitter: float = 0.1) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: interval must be > 0, got {interval}")
        self.name = name
        self.interval = interval
        self.jitter = max(0.0, min(jitter, 0.5))

    def fire_time(self, k: int) -> float:
        digest = hashlib.sha256(f"{self.name}:{k}".encode()).digest()
        unit = int.from_bytes(digest[:8], "big") / 2**64
        return k * self.interval + unit * self.jitter * self.interval

    def next_after(self, t: float) -> tuple[int, float]:
        """The first slot firing strictly after `t`."""
        k = math.floor(t / self.interval)
        while self.fire_time(k) <= t:
            k += 1
        return k, self.fire_time(k)


async def run_every(
    slots: Slots,
    job: Job,
    stop: asyncio.Event,
    *,
    immediately: bool = False,
    clock: Callable[[], float] = time.time,
) -> None:
    """Run `job(slot time)` at every slot until `stop` is set. A failing job is logged and the
    schedule goes on; a slot missed while the previous run was still busy is skipped."""
    if immediately and not stop.is_set():
        await _run(slots.name, job, datetime.fromtimestamp(clock(), UTC))
    while not stop.is_set():
        _, when = slots.next_after(clock())
        try:
            async with asyncio.timeout(max(0.0, when - clock())):
                await stop.wait()
        except TimeoutError:
            await _run(slots.name, job, datetime.fromtimestamp(when, UTC))


async def _run(name: str, job: Job, at: datetime) -> None:
    try:
        await job(at)
    except Exception:  # a job must never end its schedule
        log.exception("%s: cycle at %s failed", name, at.isoformat())
