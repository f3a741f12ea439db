"""Restart policy: capped exponential backoff, forgiven after a stable run."""

import pytest

from cryptohub.cli.policy import Backoff, RestartPolicy


def test_delay_doubles_from_initial_and_is_capped() -> None:
    policy = RestartPolicy(initial_delay=0.5, factor=2.0, max_delay=5.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_huge_crash_streak_stays_at_the_cap() -> None:
    assert RestartPolicy(max_delay=30.0).delay(10_000) == 30.0


def test_crashes_in_a_row_back_off_further() -> None:
    policy = RestartPolicy(initial_delay=1.0, factor=3.0, max_delay=100.0, stable_after=60)
    backoff = Backoff(policy)
    assert [backoff.after_crash(uptime=0.1) for _ in range(4)] == [1.0, 3.0, 9.0, 27.0]


def test_crash_after_a_stable_run_starts_the_backoff_over() -> None:
    backoff = Backoff(RestartPolicy(initial_delay=1.0, factor=2.0, max_delay=60.0, stable_after=30))
    for _ in range(3):
        backoff.after_crash(uptime=1.0)
    assert backoff.after_crash(uptime=30.0) == 1.0
    assert backoff.after_crash(uptime=29.9) == 2.0


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_delay": 0.0}, {"factor": 0.5}, {"initial_delay": 10.0, "max_delay": 1.0}],
)
def test_nonsense_policy_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="initial_delay"):
        RestartPolicy(**kwargs)
