import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from cryptohub.common.providers.backoff import backoff_delay, parse_retry_after
from cryptohub.common.providers.declaration import RetryPolicy

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        (" 0.5 ", 0.5),
        ("-3", 0.0),
        ("99999", 600.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_seconds_or_http_date_is_capped(
    header: str | None, expected: float | None
) -> None:
    assert parse_retry_after(header, now=NOW, cap=600.0) == expected


def test_backoff_grows_exponentially_but_never_past_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (30, 1.0)]:
        delays = [backoff_delay(attempt, policy, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8, "full jitter should use most of the range"
