"""Quota budgeting: the plan never spends more than a provider's declared limits allow."""

import pytest

from cryptohub.collector_market.gate import Gate
from cryptohub.collector_market.quota import SECONDS_PER_MONTH, Demand, budget, plan
from cryptohub.common.providers import ProviderError, RateLimits

DEMO = RateLimits(per_minute=30, monthly_credits=10_000)


def test_budget_is_the_tightest_limit_as_a_rate() -> None:
    assert budget(RateLimits(per_minute=60), headroom=1.0).rate == pytest.approx(1.0)
    monthly = budget(DEMO)
    assert monthly.rate == pytest.approx(10_000 / SECONDS_PER_MONTH)
    assert monthly.binding == "10,000 credits/month"
    assert budget(RateLimits()).rate == float("inf")


def test_demands_within_budget_keep_their_interval() -> None:
    allotted = plan(
        [Demand("prices", "binance", 30, cost=80)], {"binance": RateLimits(per_minute=6000)}
    )
    allotment = allotted["prices", "binance"]
    assert allotment.spacing == 30
    assert not allotment.slowed
    assert allotment.reason is None


def test_over_budget_demands_are_slowed_alike_and_say_why() -> None:
    demands = [
        Demand("prices", "coingecko", 30),
        Demand("watchlist", "coingecko", 900),
        Demand("market_global", "coingecko", 300),
    ]
    allotted = plan(demands, {"coingecko": DEMO})
    spent = sum(1 / a.spacing for a in allotted.values())
    assert spent <= 10_000 / SECONDS_PER_MONTH * (1 + 1e-9)  # never more than the plan allows
    factor = allotted["prices", "coingecko"].spacing / 30
    assert allotted["watchlist", "coingecko"].spacing == pytest.approx(900 * factor)
    assert all(a.slowed for a in allotted.values())
    reason = allotted["prices", "coingecko"].reason or ""
    assert "10,000 credits/month" in reason


def test_a_replicas_share_and_the_headroom_shrink_the_budget() -> None:
    limits = {"kraken": RateLimits(per_second=1)}
    alone = plan([Demand("prices", "kraken", 1)], limits, headroom=1.0)
    shared = plan([Demand("prices", "kraken", 1)], limits, share=0.5, headroom=1.0)
    assert alone["prices", "kraken"].spacing == pytest.approx(1)
    assert shared["prices", "kraken"].spacing == pytest.approx(2)


def test_costs_count() -> None:
    allotted = plan(
        [Demand("prices", "binance", 0.5, cost=80)],
        {"binance": RateLimits(per_minute=6000)},
        headroom=1.0,
    )
    # 80 weight every 0.5 s is 160/s against 100/s: spaced to 80 weight every 0.8 s.
    assert allotted["prices", "binance"].spacing == pytest.approx(80 / 100)


def test_gate_refuses_locally_until_the_next_window_of_the_grid() -> None:
    gate = Gate("prices", "coinmarketcap", spacing=100.0)
    gate.take(1_000_050.0)  # window [1_000_000, 1_000_100)
    assert gate.wait(1_000_060.0) == pytest.approx(40.0)
    with pytest.raises(ProviderError) as refused:
        gate.take(1_000_099.0)
    assert (refused.value.kind, refused.value.called) == ("rate_limited", False)
    gate.take(1_000_100.0)
