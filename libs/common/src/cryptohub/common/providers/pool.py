"""Pools of providers per capability: pick the best available member, fail over within the call."""

import enum
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from cryptohub.common.providers.client import ParseFn, ProviderClient, Request
from cryptohub.common.providers.errors import PoolExhaustedError, ProviderError
from cryptohub.common.providers.states import ProviderStates, StaticProviderStates

log = logging.getLogger(__name__)

Q = TypeVar("Q")
T = TypeVar("T")


class Strategy(enum.StrEnum):
    PRIORITY = "priority"
    ROUND_ROBIN = "round_robin"
    LEAST_USED = "least_used"
    WEIGHTED = "weighted"


@dataclass(frozen=True, slots=True)
class PoolMember(Generic[Q, T]):
    """One provider's way to answer the pool's question: build its request, parse its answer."""

    client: ProviderClient
    request: Callable[[Q], Request]
    parse: ParseFn[T]
    priority: int = 0
    weight: float = 1.0

    @property
    def name(self) -> str:
        return self.client.name


@dataclass(frozen=True, slots=True)
class PoolResult(Generic[T]):
    """The answer, who gave it, and what failed or was skipped before it."""

    value: T
    provider: str
    failures: tuple[ProviderError, ...] = ()


def order_members(
    members: Sequence[PoolMember[Q, T]],
    strategy: Strategy,
    *,
    turn: int,
    used: dict[str, int],
    rng: random.Random,
) -> list[PoolMember[Q, T]]:
    """The order in which to try members for one call. Pure, so each strategy is testable."""
    if strategy is Strategy.PRIORITY:
        return sorted(members, key=lambda m: m.priority)
    if strategy is Strategy.ROUND_ROBIN:
        start = turn % len(members) if members else 0
        return [*members[start:], *members[:start]]
    if strategy is Strategy.LEAST_USED:
        return sorted(members, key=lambda m: (used.get(m.name, 0), m.priority))
    # Weighted random order without replacement (Efraimidis-Spirakis keys).
    return sorted(members, key=lambda m: rng.random() ** (1.0 / m.weight), reverse=True)


class ProviderPool(Generic[Q, T]):
    """Members serving one capability (e.g. "prices"). A call goes to the best available member and
    moves to the next on any failure; members health marks `offline` are skipped, as are members
    whose breaker is open or who are paused by a Retry-After."""

    def __init__(
        self,
        capability: str,
        members: Sequence[PoolMember[Q, T]],
        *,
        strategy: Strategy = Strategy.PRIORITY,
        states: ProviderStates | None = None,
        rng: random.Random | None = None,
    ) -> None:
        for member in members:
            if member.weight <= 0:
                raise ValueError(f"pool {capability!r}: weight of {member.name} must be > 0")
        self.capability = capability
        self.strategy = strategy
        self._states = states or StaticProviderStates()
        self._rng = rng or random.Random()
        self._turn = 0
        self.used: dict[str, int] = {}
        self.members: list[PoolMember[Q, T]] = []
        for member in members:
            if member.client.enabled:
                self.members.append(member)
            else:
                log.info("pool %s: %s", capability, member.client.provider.disabled_reason)

    async def call(self, query: Q) -> PoolResult[T]:
        """Answer `query` from the first member that can; PoolExhaustedError if none could."""
        ordered = order_members(
            self.members, self.strategy, turn=self._turn, used=self.used, rng=self._rng
        )
        self._turn += 1
        failures: list[ProviderError] = []
        for member in ordered:
            skipped = self._skip(member)
            if skipped is not None:
                failures.append(skipped)
                continue
            try:
                request = member.request(query)
                self.used[member.name] = self.used.get(member.name, 0) + 1
                value = await member.client.fetch(request, member.parse)
            except ProviderError as error:
                failures.append(error)
                continue
            return PoolResult(value=value, provider=member.name, failures=tuple(failures))
        exhausted = PoolExhaustedError(self.capability, failures)
        log.warning("%s", exhausted)
        raise exhausted

    def _skip(self, member: PoolMember[Q, T]) -> ProviderError | None:
        """Why not to call this member now, as a not-called error; None to call it."""
        client = member.client
        if self._states.state_of(member.name) == "offline":
            return ProviderError(
                member.name,
                self.capability,
                "circuit_open",
                "marked offline by health",
                called=False,
            )
        breaker_wait = client.breaker.retry_in(client.now())
        if breaker_wait > 0:
            message = f"circuit open, retry in {breaker_wait:.1f}s"
            return ProviderError(
                member.name, self.capability, "circuit_open", message, called=False
            )
        paused = client.limiter.paused_for()
        if paused > 0:
            message = f"paused by Retry-After for {paused:.1f}s"
            return ProviderError(
                member.name, self.capability, "rate_limited", message, called=False
            )
        return None
