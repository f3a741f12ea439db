import random
from collections import Counter
from typing import Any

import httpx
import pytest

from cryptohub.common.providers import PoolMember, ProviderClient, ProviderSpec, Request, resolve
from cryptohub.common.providers.pool import Strategy, order_members


def member(name: str, priority: int = 0, weight: float = 1.0) -> PoolMember[Any, Any]:
    client = ProviderClient(
        resolve(ProviderSpec(name=name, category="m", base_url="http://x")), httpx.AsyncClient()
    )
    return PoolMember(
        client=client,
        request=lambda _: Request("e", "/"),
        parse=lambda b, c: b,
        priority=priority,
        weight=weight,
    )


A, B, C = member("a", 2), member("b", 0), member("c", 1)
MEMBERS = [A, B, C]


def names(members: list[PoolMember[Any, Any]]) -> list[str]:
    return [m.name for m in members]


def order(strategy: Strategy, turn: int = 0, used: dict[str, int] | None = None) -> list[str]:
    return names(order_members(MEMBERS, strategy, turn=turn, used=used or {}, rng=random.Random(1)))


def test_priority_tries_lowest_priority_number_first() -> None:
    assert order(Strategy.PRIORITY) == ["b", "c", "a"]


def test_round_robin_rotates_the_first_member_each_call() -> None:
    assert [order(Strategy.ROUND_ROBIN, turn)[0] for turn in range(4)] == ["a", "b", "c", "a"]
    assert order(Strategy.ROUND_ROBIN, 1) == ["b", "c", "a"]


def test_least_used_prefers_the_member_with_fewest_calls() -> None:
    assert order(Strategy.LEAST_USED, used={"a": 5, "b": 3, "c": 9}) == ["b", "a", "c"]


def test_weighted_order_follows_the_weights() -> None:
    heavy, light = member("heavy", weight=9.0), member("light", weight=1.0)
    rng = random.Random(42)
    firsts = Counter(
        order_members([light, heavy], Strategy.WEIGHTED, turn=0, used={}, rng=rng)[0].name
        for _ in range(2000)
    )
    assert 0.85 < firsts["heavy"] / 2000 < 0.95


def test_a_pool_rejects_non_positive_weights() -> None:
    from cryptohub.common.providers import ProviderPool

    with pytest.raises(ValueError, match="weight"):
        ProviderPool("p", [member("z", weight=0)])
