"""A provider's rate-limit quota as its headers and 429s tell it: near exhaustion, exhausted."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptohub.common.events import ProviderAttempt

__all__ = ["QuotaStatus", "QuotaWatch"]


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """What is known of the quota now. `used` is None when the provider sent no usable counts."""

    used: float | None
    near: bool
    exhausted: bool
    near_since: datetime | None
    exhausted_since: datetime | None
    detail: str


class QuotaWatch:
    """Follows the latest rate-limit reading (limit/remaining) and the latest 429.

    A reading holds until its reset time (or `hold` when the provider gives none); a 429 holds
    for its Retry-After (or `hold`), or until the provider answers a call normally again.
    """

    def __init__(self, *, near_ratio: float, hold: timedelta) -> None:
        self.near_ratio = near_ratio
        self.hold = hold
        self._limit = 0
        self._remaining = 0
        self._reading_until: datetime | None = None
        self._limited_until: datetime | None = None
        self._near_since: datetime | None = None
        self._exhausted_since: datetime | None = None

    def observe(self, attempt: ProviderAttempt) -> None:
        at = attempt.observed_at
        seen = attempt.rate_limit
        if seen is not None and seen.limit and seen.remaining is not None:
            self._limit, self._remaining = seen.limit, seen.remaining
            hold = timedelta(seconds=seen.reset_seconds) if seen.reset_seconds else self.hold
            self._reading_until = at + hold
        if attempt.error_kind == "rate_limited":
            wait = seen.retry_after_seconds if seen is not None else None
            self._limited_until = at + (timedelta(seconds=wait) if wait else self.hold)
        elif attempt.ok:
            self._limited_until = None
        self.status(at)

    def status(self, now: datetime) -> QuotaStatus:
        """The quota at `now`; a condition's `since` is when it was first seen in this run."""
        judged = self._judge(now)
        if not judged.near:
            self._near_since = None
        elif self._near_since is None:
            self._near_since = now
        if not judged.exhausted:
            self._exhausted_since = None
        elif self._exhausted_since is None:
            self._exhausted_since = now
        return QuotaStatus(
            used=judged.used,
            near=judged.near,
            exhausted=judged.exhausted,
            near_since=self._near_since,
            exhausted_since=self._exhausted_since,
            detail=judged.detail,
        )

    def _judge(self, now: datetime) -> QuotaStatus:
        used: float | None = None
        parts: list[str] = []
        reading = self._reading_until is not None and now < self._reading_until
        if reading:
            used = 1.0 - self._remaining / self._limit
            parts.append(f"{self._remaining} of {self._limit} calls left")
        limited = self._limited_until is not None and now < self._limited_until
        if limited:
            parts.append("answering rate limited (429 or its body saying so)")
        exhausted = limited or (reading and self._remaining == 0)
        near = used is not None and used >= self.near_ratio
        return QuotaStatus(
            used=used,
            near=near,
            exhausted=exhausted,
            near_since=None,
            exhausted_since=None,
            detail="; ".join(parts),
        )
