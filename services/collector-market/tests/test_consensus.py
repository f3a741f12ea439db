"""The consensus price: examples, and properties checked by hypothesis."""

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptohub.collector_market.consensus import Consensus, NoConsensus, Policy, Quote, consensus

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
POLICY = Policy(max_age=timedelta(seconds=120))


def quote(provider: str, price: float, age_s: float = 5.0) -> Quote:
    return Quote(provider, price, NOW - timedelta(seconds=age_s))


def agree(quotes: list[Quote], policy: Policy = POLICY) -> Consensus:
    result = consensus(quotes, now=NOW, policy=policy)
    assert isinstance(result, Consensus), result
    return result


def test_median_of_fresh_quotes_with_contributors_spread_and_confidence() -> None:
    result = agree([quote("a", 100.0), quote("b", 101.0), quote("c", 100.5)])
    assert result.price == 100.5
    assert result.contributors == ("a", "b", "c")
    assert result.rejected == ()
    assert result.spread_pct == pytest.approx(1.0 / 100.5 * 100)
    assert 0.4 < result.confidence < 1.0


def test_an_outlier_is_rejected_with_its_deviation() -> None:
    result = agree([quote("a", 100.0), quote("b", 100.2), quote("c", 99.9), quote("x", 1000.0)])
    assert result.contributors == ("a", "b", "c")
    [rejected] = result.rejected
    assert rejected.provider == "x"
    assert rejected.price == 1000.0
    assert rejected.deviation_pct == pytest.approx((1000.0 - 100.0) / 100.0 * 100)
    assert result.price == 100.0


def test_stale_quotes_are_left_out_and_named() -> None:
    result = agree([quote("a", 100.0), quote("b", 100.4), quote("old", 50.0, age_s=121)])
    assert result.contributors == ("a", "b")
    assert result.stale == ("old",)
    assert result.price == pytest.approx(100.2)


def test_only_stale_quotes_give_no_consensus() -> None:
    result = consensus([quote("a", 100.0, age_s=500)], now=NOW, policy=POLICY)
    assert result == NoConsensus("no fresh quote", ("a",))


def test_a_quote_from_the_future_is_not_fresh() -> None:
    result = consensus([quote("a", 100.0, age_s=-60)], now=NOW, policy=POLICY)
    assert isinstance(result, NoConsensus)


def test_one_provider_left_is_published_with_low_confidence() -> None:
    result = agree([quote("a", 100.0), quote("b", 100.1, age_s=300)])
    assert result.contributors == ("a",)
    assert result.single_source
    assert result.confidence == POLICY.single_confidence


def test_two_providers_far_apart_give_no_consensus() -> None:
    result = consensus([quote("a", 100.0), quote("b", 1000.0)], now=NOW, policy=POLICY)
    assert isinstance(result, NoConsensus)
    assert "disagree" in result.reason


def test_each_provider_counts_once_with_its_latest_quote() -> None:
    result = agree([quote("a", 90.0, age_s=60), quote("a", 100.0, age_s=1), quote("b", 100.2)])
    assert result.contributors == ("a", "b")
    assert result.price == pytest.approx(100.1)


def test_identical_quotes_do_not_make_a_tiny_difference_an_outlier() -> None:
    result = agree([quote("a", 100.0), quote("b", 100.0), quote("c", 100.0), quote("d", 100.3)])
    assert result.rejected == ()


def test_more_agreeing_providers_give_more_confidence() -> None:
    two = agree([quote("a", 100.0), quote("b", 100.1)])
    four = agree([quote(p, 100.0 + i * 0.05) for i, p in enumerate("abcd")])
    assert four.confidence > two.confidence > POLICY.single_confidence


# --- properties

prices = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)


@st.composite
def honest_quotes(draw: st.DrawFn, minimum: int = 1) -> list[Quote]:
    """Providers quoting within +-0.5% of a common price."""
    base = draw(prices)
    n = draw(st.integers(min_value=minimum, max_value=9))
    offsets = draw(st.lists(st.floats(-0.005, 0.005), min_size=n, max_size=n))
    ages = draw(st.lists(st.floats(0, 119), min_size=n, max_size=n))
    return [
        Quote(f"p{i}", base * (1 + o), NOW - timedelta(seconds=a))
        for i, (o, a) in enumerate(zip(offsets, ages, strict=True))
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(prices, st.floats(0, 119)),
        min_size=1,
        max_size=12,
    )
)
def test_consensus_lies_within_the_range_of_its_contributors(
    raw: list[tuple[float, float]],
) -> None:
    quotes = [Quote(f"p{i}", p, NOW - timedelta(seconds=a)) for i, (p, a) in enumerate(raw)]
    result = consensus(quotes, now=NOW, policy=POLICY)
    if isinstance(result, Consensus):
        inliers = [q.price for q in quotes if q.provider in result.contributors]
        assert min(inliers) <= result.price <= max(inliers)
        assert 0 <= result.confidence <= 1
        assert set(result.contributors).isdisjoint(r.provider for r in result.rejected)


@settings(max_examples=300, deadline=None)
@given(honest_quotes(minimum=2), st.floats(0, 119))
def test_one_provider_quoting_ten_times_the_price_moves_it_less_than_half_a_percent(
    honest: list[Quote], age: float
) -> None:
    before = agree(honest)
    liar = Quote(
        "liar", statistics.median(q.price for q in honest) * 10, NOW - timedelta(seconds=age)
    )
    after = agree([*honest, liar])
    assert abs(after.price - before.price) / before.price < 0.005
    assert "liar" not in after.contributors


@settings(max_examples=300, deadline=None)
@given(
    honest_quotes(minimum=1),
    st.lists(st.tuples(prices, st.floats(120.001, 1e6)), min_size=1, max_size=6),
)
def test_stale_quotes_never_contribute(
    honest: list[Quote], stale: list[tuple[float, float]]
) -> None:
    old = [Quote(f"old{i}", p, NOW - timedelta(seconds=a)) for i, (p, a) in enumerate(stale)]
    with_stale = consensus([*honest, *old], now=NOW, policy=POLICY)
    without = consensus(honest, now=NOW, policy=POLICY)
    assert isinstance(with_stale, Consensus)
    assert not any(p.startswith("old") for p in with_stale.contributors)
    assert set(with_stale.stale) == {q.provider for q in old}
    assert isinstance(without, Consensus)
    assert with_stale.price == without.price
