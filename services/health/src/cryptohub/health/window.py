"""Sliding window of one provider's recent calls, by count and by time, with running counts."""

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptohub.common.events import ErrorKind, ProviderAttempt

__all__ = ["INVALID_KINDS", "AttemptWindow", "Figures", "Sample"]

# A body we could not use: it did not parse, or it held values we must not publish.
INVALID_KINDS: Final[frozenset[ErrorKind]] = frozenset({"parse", "invalid_data"})


@dataclass(frozen=True, slots=True)
class Sample:
    """What the window keeps of one attempt."""

    at: datetime
    ok: bool
    latency_ms: float
    error_kind: ErrorKind | None
    slow: bool

    @property
    def failed(self) -> bool:
        """A failure of the provider. A 429 is not one: the provider answered, and the quota
        rules deal with it."""
        return not self.ok and self.error_kind != "rate_limited"

    @property
    def invalid(self) -> bool:
        return self.error_kind in INVALID_KINDS


@dataclass(frozen=True, slots=True)
class Figures:
    """The window's numbers at one moment."""

    calls: int
    successes: int
    failures: int
    rate_limited: int
    invalid: int
    slow: int
    consecutive_failures: int
    first_invalid_at: datetime | None

    @property
    def error_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0

    @property
    def slow_rate(self) -> float:
        return self.slow / self.calls if self.calls else 0.0

    @property
    def invalid_rate(self) -> float:
        return self.invalid / self.calls if self.calls else 0.0

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.calls if self.calls else None


class AttemptWindow:
    """The last `max_calls` attempts of one provider that are younger than `span`.

    Counts are kept as samples come and go, so reading them costs nothing per call. `reset`
    starts afresh from a moment (a provider that came back is judged on what it does now).
    """

    def __init__(self, *, max_calls: int, span: timedelta, slow_ms: float) -> None:
        if max_calls < 1:
            raise ValueError(f"max_calls must be >= 1, got {max_calls}")
        self.max_calls = max_calls
        self.span = span
        self.slow_ms = slow_ms
        self.epoch: datetime | None = None
        self._samples: deque[Sample] = deque()
        self._successes = 0
        self._failures = 0
        self._rate_limited = 0
        self._invalid = 0
        self._slow = 0

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, attempt: ProviderAttempt) -> bool:
        """Count `attempt`; False (ignored) if it is older than the epoch."""
        if self.epoch is not None and attempt.observed_at < self.epoch:
            return False
        sample = Sample(
            at=attempt.observed_at,
            ok=attempt.ok,
            latency_ms=attempt.latency_ms,
            error_kind=attempt.error_kind,
            slow=attempt.latency_ms > self.slow_ms,
        )
        self._samples.append(sample)
        self._count(sample, 1)
        if len(self._samples) > self.max_calls:
            self._count(self._samples.popleft(), -1)
        return True

    def reset(self, epoch: datetime) -> None:
        """Forget every sample before `epoch` and ignore any that arrive later."""
        self.epoch = epoch
        kept = [s for s in self._samples if s.at >= epoch]
        self._samples.clear()
        self._successes = self._failures = self._rate_limited = self._invalid = self._slow = 0
        for sample in kept:
            self._samples.append(sample)
            self._count(sample, 1)

    def prune(self, now: datetime) -> None:
        """Forget samples older than the span. Attempts arrive nearly in time order (several
        collectors, small clock skews); a slightly older one behind a newer one waits its turn."""
        cutoff = now - self.span
        while self._samples and self._samples[0].at < cutoff:
            self._count(self._samples.popleft(), -1)

    def figures(self, now: datetime) -> Figures:
        self.prune(now)
        consecutive = 0
        for sample in reversed(self._samples):
            if sample.failed:
                consecutive += 1
            elif sample.error_kind != "rate_limited":
                break
        first_invalid = (
            next((s.at for s in self._samples if s.invalid), None) if self._invalid else None
        )
        return Figures(
            calls=len(self._samples),
            successes=self._successes,
            failures=self._failures,
            rate_limited=self._rate_limited,
            invalid=self._invalid,
            slow=self._slow,
            consecutive_failures=consecutive,
            first_invalid_at=first_invalid,
        )

    def latency_percentiles(self) -> tuple[float, float] | None:
        """(p50, p95) of the latencies in the window, nearest-rank; None when empty."""
        if not self._samples:
            return None
        ordered = sorted(s.latency_ms for s in self._samples)
        return _rank(ordered, 0.50), _rank(ordered, 0.95)

    def _count(self, sample: Sample, delta: int) -> None:
        if sample.ok:
            self._successes += delta
        if sample.failed:
            self._failures += delta
        if sample.error_kind == "rate_limited":
            self._rate_limited += delta
        if sample.invalid:
            self._invalid += delta
        if sample.slow:
            self._slow += delta


def _rank(ordered: list[float], quantile: float) -> float:
    index = math.ceil(round(quantile * len(ordered), 9)) - 1
    return ordered[max(0, min(len(ordered) - 1, index))]
