"""Alert rules: each cause, the group wait, and one category alert instead of one per provider."""

from datetime import UTC, datetime, timedelta

from cryptohub.common.events import ProviderState
from cryptohub.health.quota import QuotaStatus
from cryptohub.health.rules import AlertPolicy, ProviderView, assess
from cryptohub.health.window import Figures

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
POLICY = AlertPolicy(
    degraded_for=timedelta(minutes=10),
    stale_after=timedelta(minutes=5),
    group_wait=timedelta(seconds=10),
    min_calls=5,
    invalid_rate=0.1,
    category_majority=0.5,
    category_min_providers=2,
)


def view(
    provider: str,
    state: ProviderState | None = "online",
    *,
    since: datetime = T0,
    category: str | None = None,
    last_attempt_at: datetime | None = T0,
    expected: bool = True,
    figures: Figures | None = None,
    quota: QuotaStatus | None = None,
) -> ProviderView:
    return ProviderView(
        provider=provider,
        category=category,
        state=state,
        since=since,
        down_since=since if state in ("offline", "half_open") else None,
        last_attempt_at=last_attempt_at,
        watched_since=T0,
        expected=expected,
        figures=figures,
        quota=quota,
    )


def keys(views: list[ProviderView], now: datetime) -> list[str]:
    return sorted(c.key for c in assess(views, POLICY, now).causes)


def test_offline_provider_alert_waits_for_the_group_wait() -> None:
    views = [view("alpha", "offline")]
    assert keys(views, T0 + timedelta(seconds=9)) == []
    (cause,) = assess(views, POLICY, T0 + timedelta(seconds=10)).causes
    assert cause.key == "provider_offline.alpha"
    assert cause.severity == "critical"
    assert cause.since == T0
    assert keys([view("alpha", "half_open")], T0 + timedelta(minutes=1)) == [
        "provider_offline.alpha"
    ], "half-open is not back yet"


def test_most_of_a_category_offline_gives_one_category_alert() -> None:
    views = [
        view("a", "offline", category="market"),
        view("b", "offline", category="market", since=T0 + timedelta(seconds=2)),
        view("c", category="market"),
        view("d", "offline", category="chain"),
    ]
    result = assess(views, POLICY, T0 + timedelta(seconds=30))
    assert sorted(c.key for c in result.causes) == [
        "category_offline.market",
        "provider_offline.d",
    ]
    category = next(c for c in result.causes if c.rule == "category_offline")
    assert category.message == "2 of 3 market providers are offline: a, b"
    assert category.since == T0 + timedelta(seconds=2), "when the majority was reached"
    assert result.held == {"provider_offline.a", "provider_offline.b"}


def test_an_open_category_alert_stays_until_its_last_member_is_back() -> None:
    views = [
        view("a", category="market"),
        view("b", "half_open", category="market"),
        view("c", category="market"),
    ]
    assert keys(views, T0 + timedelta(seconds=30)) == ["provider_offline.b"]
    sticky = assess(views, POLICY, T0 + timedelta(seconds=30), {"category_offline.market"})
    assert [c.key for c in sticky.causes] == ["category_offline.market"]
    assert sticky.held == {"provider_offline.b"}
    back = [view("a", category="market"), view("b", category="market")]
    assert assess(back, POLICY, T0, {"category_offline.market"}).causes == ()


def test_a_minority_of_a_category_offline_gets_provider_alerts() -> None:
    views = [view("a", "offline", category="market"), view("b", category="market")]
    assert keys(views, T0 + timedelta(seconds=30)) == ["provider_offline.a"]
    alone = [view("a", "offline", category="solo")]
    assert keys(alone, T0 + timedelta(seconds=30)) == ["provider_offline.a"], (
        "a category of one is below category_min_providers"
    )


def test_degraded_for_long() -> None:
    views = [view("alpha", "degraded", last_attempt_at=T0 + timedelta(minutes=9))]
    assert keys(views, T0 + timedelta(minutes=9)) == []
    assert keys(views, T0 + timedelta(minutes=10)) == ["provider_degraded.alpha"]


def test_stale_when_an_expected_provider_gets_no_calls() -> None:
    assert keys([view("alpha")], T0 + timedelta(minutes=4)) == []
    (cause,) = assess([view("alpha")], POLICY, T0 + timedelta(minutes=6)).causes
    assert cause.key == "provider_stale.alpha"
    assert cause.since == T0 + timedelta(minutes=5)
    never = view("beta", None, last_attempt_at=None)
    assert keys([never], T0 + timedelta(minutes=6)) == ["provider_stale.beta"]
    assert "no calls at all" in assess([never], POLICY, T0 + timedelta(minutes=6)).causes[0].message
    assert keys([view("alpha", expected=False)], T0 + timedelta(minutes=6)) == []
    assert keys([view("alpha", "offline")], T0 + timedelta(minutes=6)) == [
        "provider_offline.alpha"
    ], "an offline provider is not called on purpose: not stale"


def test_rate_limit_near_and_exhausted() -> None:
    near = QuotaStatus(
        used=0.85, near=True, exhausted=False, near_since=T0, exhausted_since=None, detail="x"
    )
    assert keys([view("alpha", quota=near)], T0) == ["rate_limit_near.alpha"]
    out = QuotaStatus(
        used=1.0, near=True, exhausted=True, near_since=T0, exhausted_since=T0, detail="x"
    )
    assert keys([view("alpha", quota=out)], T0) == [
        "rate_limit_exhausted.alpha",
        "rate_limit_near.alpha",
    ]


def test_invalid_data_needs_enough_calls_and_rate() -> None:
    def figs(calls: int, invalid: int) -> Figures:
        return Figures(
            calls=calls,
            successes=calls - invalid,
            failures=invalid,
            rate_limited=0,
            invalid=invalid,
            slow=0,
            consecutive_failures=0,
            first_invalid_at=T0 if invalid else None,
        )

    assert keys([view("alpha", figures=figs(4, 2))], T0) == []
    assert keys([view("alpha", figures=figs(20, 1))], T0) == []
    assert keys([view("alpha", figures=figs(20, 2))], T0) == ["invalid_data.alpha"]
