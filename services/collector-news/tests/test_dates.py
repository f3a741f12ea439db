"""The publish-time policy: accepted in UTC, clamped within skew, refused otherwise."""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cryptohub.collector_news.dates import (
    DatePolicy,
    from_epoch,
    from_iso,
    from_struct_time,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = DatePolicy(max_age=timedelta(days=7), future_skew=timedelta(minutes=10))


def test_a_date_in_another_zone_is_converted_to_utc() -> None:
    published = datetime(2026, 11, 21, 6, 0, tzinfo=timezone(timedelta(hours=-5)))
    verdict = POLICY.judge(published, NOW)
    assert verdict == datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    assert isinstance(verdict, datetime)
    assert verdict.tzinfo is UTC


@pytest.mark.parametrize(
    ("published", "verdict"),
    [
        (NOW - timedelta(hours=3), NOW - timedelta(hours=3)),
        (NOW + timedelta(minutes=5), NOW),  # within the skew: clamped to when we got it
        (NOW + timedelta(hours=2), "future_date"),
        (datetime(2099, 1, 1, tzinfo=UTC), "future_date"),
        (NOW - timedelta(days=8), "stale_date"),
        (datetime(1970, 1, 1, tzinfo=UTC), "stale_date"),
        (None, "missing_date"),
        (datetime(2026, 11, 21, 10, 0), "bad_date"),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_policy(published: datetime | None, verdict: object) -> None:
    assert POLICY.judge(published, NOW) == verdict


def test_nothing_before_bitcoin_is_accepted_even_with_a_long_max_age() -> None:
    policy = DatePolicy(max_age=timedelta(days=365 * 100))
    assert policy.judge(datetime(2008, 12, 31, tzinfo=UTC), NOW) == "stale_date"
    assert policy.judge(datetime(2019, 1, 31, tzinfo=UTC), NOW) == datetime(2019, 1, 31, tzinfo=UTC)


def test_converters() -> None:
    assert from_iso("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert from_iso("2024-01-02T03:04:05+02:00") == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert from_iso("2024-01-02T03:04:05") is None  # naive: no zone, no way to know
    assert from_iso("yesterday") is None
    assert from_epoch("1640131200") == datetime(2021, 12, 22, tzinfo=UTC)
    assert from_epoch(1e20) is None
    assert from_epoch("nan") is None
    assert from_struct_time(time.gmtime(0)) == datetime(1970, 1, 1, tzinfo=UTC)
    assert from_struct_time(None) is None
