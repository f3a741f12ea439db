"""When an article was published, judged: accepted in UTC, nudged within clock skew, or refused."""

import calendar
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, TypeAlias

__all__ = ["EARLIEST", "DatePolicy", "DateProblem", "from_epoch", "from_iso", "from_struct_time"]

# Nothing about crypto assets was published before the Bitcoin genesis block.
EARLIEST: Final = datetime(2009, 1, 3, tzinfo=UTC)

DateProblem: TypeAlias = Literal["missing_date", "bad_date", "future_date", "stale_date"]


@dataclass(frozen=True, slots=True)
class DatePolicy:
    """What publish times an article may have, relative to when we received it.

    - no date, or one that does not parse: refused (`missing_date`, `bad_date`); Article has no
      field to say "time unknown", and the time we saw it is not the time it was published;
    - up to `future_skew` ahead of us: the provider's clock or ours is off; clamped to our time;
    - further ahead: refused (`future_date`), e.g. a local time sent as UTC or year 2099;
    - older than `max_age` (or before 2009-01-03): refused (`stale_date`). Dedupe remembers
      stories for `max_age` plus a margin, so an old item can never come back as new.
    """

    max_age: timedelta = timedelta(days=7)
    future_skew: timedelta = timedelta(minutes=10)

    def judge(self, published: datetime | None, received_at: datetime) -> datetime | DateProblem:
        if published is None:
            return "missing_date"
        if published.utcoffset() is None:
            return "bad_date"
        published = published.astimezone(UTC)
        if published > received_at + self.future_skew:
            return "future_date"
        if published < EARLIEST or published < received_at - self.max_age:
            return "stale_date"
        return min(published, received_at)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's `*_parsed` (a UTC struct_time) as an aware datetime; None if unusable."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def from_iso(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp (`2024-01-01T12:00:00Z`); None if absent, naive or malformed."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def from_epoch(value: float | int | str | None) -> datetime | None:
    """Seconds since the epoch (number or digits); None if absent or out of range."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None
