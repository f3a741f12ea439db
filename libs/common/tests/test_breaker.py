from cryptohub.common.providers.breaker import BreakerState, CircuitBreaker
from cryptohub.common.providers.declaration import BreakerPolicy

POLICY = BreakerPolicy(failure_threshold=3, cooldown=10.0, probe_timeout=4.0)


def opened_breaker(at: float = 100.0) -> CircuitBreaker:
    breaker = CircuitBreaker(POLICY)
    for _ in range(POLICY.failure_threshold):
        breaker.record_failure(at)
    return breaker


def test_opens_after_configured_consecutive_failures() -> None:
    breaker = CircuitBreaker(POLICY)
    breaker.record_failure(1.0)
    breaker.record_failure(2.0)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow(2.5)
    breaker.record_failure(3.0)
    assert breaker.state is BreakerState.OPEN


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(POLICY)
    breaker.record_failure(1.0)
    breaker.record_failure(2.0)
    breaker.record_success()
    breaker.record_failure(3.0)
    assert breaker.state is BreakerState.CLOSED


def test_open_breaker_refuses_until_cooldown_then_lets_one_probe() -> None:
    breaker = opened_breaker(at=100.0)
    assert not breaker.allow(105.0)
    assert breaker.retry_in(105.0) == 5.0
    assert breaker.allow(110.0)
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow(110.5), "a second caller must wait for the probe's verdict"


def test_probe_success_closes_and_probe_failure_reopens() -> None:
    breaker = opened_breaker(at=0.0)
    assert breaker.allow(10.0)
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED

    breaker = opened_breaker(at=0.0)
    assert breaker.allow(10.0)
    breaker.record_failure(11.0)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(20.0)
    assert breaker.allow(21.0)


def test_probe_that_never_returns_frees_the_slot_after_probe_timeout() -> None:
    breaker = opened_breaker(at=0.0)
    assert breaker.allow(10.0)
    assert not breaker.allow(13.9)
    assert breaker.allow(14.0)
