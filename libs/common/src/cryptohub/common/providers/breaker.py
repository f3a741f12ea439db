"""A local circuit breaker: closed, open after N failures, one probe after a cooldown, closed."""

import enum
from dataclasses import dataclass

from cryptohub.common.providers.declaration import BreakerPolicy


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Pure state machine; the caller passes the time, so tests need no sleeping."""

    policy: BreakerPolicy
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probe_started_at: float | None = None

    def allow(self, now: float) -> bool:
        """Whether a call may go out now. In half-open, only one probe at a time."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.policy.cooldown:
                return False
            self.state = BreakerState.HALF_OPEN
            self.probe_started_at = None
        # Half-open: a probe that never came back within probe_timeout frees the slot.
        if (
            self.probe_started_at is not None
            and now - self.probe_started_at < self.policy.probe_timeout
        ):
            return False
        self.probe_started_at = now
        return True

    def retry_in(self, now: float) -> float:
        """Seconds until the breaker would let a call through (0 if it would now)."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.policy.cooldown - (now - self.opened_at))
        if self.state is BreakerState.HALF_OPEN and self.probe_started_at is not None:
            return max(0.0, self.policy.probe_timeout - (now - self.probe_started_at))
        return 0.0

    def record_success(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.probe_started_at = None

    def record_failure(self, now: float) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self._open(now)
            return
        self.failures += 1
        if self.failures >= self.policy.failure_threshold:
            self._open(now)

    def release_probe(self) -> None:
        """A half-open probe ended without a verdict on availability (e.g. a parse error)."""
        self.probe_started_at = None

    def _open(self, now: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self.probe_started_at = None
