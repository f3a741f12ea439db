"""When to restart a crashed child: capped exponential backoff, forgiven after a stable run."""

from dataclasses import dataclass, field

__all__ = ["Backoff", "RestartPolicy"]

_MAX_EXPONENT = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartPolicy:
    """Restart ``n`` in a row waits ``initial_delay * factor**(n-1)`` s, at most ``max_delay``.

    A child that ran for ``stable_after`` seconds or more before it crashed starts again
    from ``initial_delay``.
    """

    initial_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    stable_after: float = 60.0

    def __post_init__(self) -> None:
        if self.initial_delay <= 0 or self.factor < 1 or self.max_delay < self.initial_delay:
            raise ValueError(f"need 0 < initial_delay <= max_delay and factor >= 1: {self}")

    def delay(self, failures: int) -> float:
        """Seconds to wait before restarting after ``failures`` (>= 1) crashes in a row."""
        exponent = min(max(failures, 1) - 1, _MAX_EXPONENT)
        return min(self.max_delay, self.initial_delay * self.factor**exponent)


@dataclass(slots=True)
class Backoff:
    """One child's crash streak under a :class:`RestartPolicy`."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    failures: int = 0

    def after_crash(self, uptime: float) -> float:
        """Record a crash after ``uptime`` seconds of running; the delay before the restart."""
        if uptime >= self.policy.stable_after:
            self.failures = 0
        self.failures += 1
        return self.policy.delay(self.failures)
