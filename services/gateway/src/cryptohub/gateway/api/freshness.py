"""How old the data of a response is, and the `max_age` refusal when it is older than asked."""

from collections.abc import Iterable
from datetime import UTC, datetime

from cryptohub.gateway.api.problems import ProblemError

__all__ = ["age_s", "check_max_age", "now", "oldest"]


def now() -> datetime:
    return datetime.now(UTC)


def age_s(moment: datetime | None, at: datetime | None = None) -> float | None:
    """Seconds since `moment` (0 for a time in the future), rounded to ms; None without data."""
    if moment is None:
        return None
    return round(max(0.0, ((at or now()) - moment).total_seconds()), 3)


def oldest(moments: Iterable[datetime]) -> datetime | None:
    return min(moments, default=None)


def check_max_age(max_age: int | None, as_of: datetime | None, what: str) -> None:
    """503 when `max_age` is given and the data (observed at `as_of`) is older than that."""
    if max_age is None or as_of is None:
        return
    age = age_s(as_of) or 0.0
    if age > max_age:
        raise ProblemError(
            503,
            f"{what} is {age:.0f} s old, older than max_age={max_age} s "
            f"(observed at {as_of.isoformat()}); the source may be down",
            retry_after_s=min(60, max(1, max_age)),
            headers={"Retry-After": str(min(60, max(1, max_age)))},
        )
