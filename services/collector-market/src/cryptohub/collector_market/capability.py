"""A capability's pool of providers: one answer with failover, or answers from several at once.

`one()` asks the pool (`ProviderPool.call`): the first available member answers, and any
failure moves the call to the next member in the same cycle. `many()` is for prices, where the
consensus needs independent providers: up to `want` lanes run at once, each taking the next
available provider nobody else took this cycle and moving on to the next free one if its own
fails. Either way a member is skipped while health marks it offline (KV `provider_state`), its
breaker is open, a Retry-After pauses it, its quota allotment is spent, or it has nothing to ask.
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cryptohub.collector_market.gate import Gate
from cryptohub.common.providers import (
    ParseFn,
    PoolMember,
    PoolResult,
    ProviderClient,
    ProviderError,
    ProviderPool,
    ProviderStates,
    Request,
    Strategy,
)
from cryptohub.common.providers.pool import order_members

log = logging.getLogger(__name__)

Q = TypeVar("Q")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source(Generic[Q, T]):
    """One provider's way to serve a capability. `build` returns None when it has nothing to
    ask (e.g. it lists none of the watched assets)."""

    client: ProviderClient
    build: Callable[[Q], Request | None]
    parse: ParseFn[T]
    gate: Gate | None = None
    priority: int = 0

    @property
    def name(self) -> str:
        return self.client.name


@dataclass(frozen=True, slots=True)
class Answers(Generic[T]):
    """What `many()` got: one result per provider that answered, and every failure seen; `late`:
    the lanes still waiting on a provider when the caller's patience ran out (still running)."""

    results: tuple[PoolResult[T], ...]
    failures: tuple[ProviderError, ...]
    late: tuple["asyncio.Task[PoolResult[T] | None]", ...] = ()

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(r.provider for r in self.results)


class Capability(Generic[Q, T]):
    """The providers serving one capability, as a `ProviderPool`."""

    def __init__(
        self,
        name: str,
        sources: list[Source[Q, T]],
        *,
        states: ProviderStates,
        strategy: Strategy = Strategy.PRIORITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._states = states
        self._clock = clock
        self._rng = random.Random()
        self._turn = 0
        members: list[PoolMember[Q, T]] = [
            PoolMember(
                client=s.client, request=self._requester(s), parse=s.parse, priority=s.priority
            )
            for s in sources
        ]
        self.pool: ProviderPool[Q, T] = ProviderPool(
            name, members, strategy=strategy, states=states
        )
        self._by_member = {id(m): s for m, s in zip(members, sources, strict=True)}
        self._busy: set[str] = set()  # providers whose call (from `many`) is still under way

    @property
    def providers(self) -> list[str]:
        return [m.name for m in self.pool.members]

    def _requester(self, source: Source[Q, T]) -> Callable[[Q], Request]:
        def request(query: Q) -> Request:
            built = source.build(query)
            if built is None:
                raise ProviderError(
                    source.name, self.name, "circuit_open", "nothing to ask", called=False
                )
            if source.gate is not None:
                source.gate.take(self._clock())
            return built

        return request

    def skip_reason(self, source: Source[Q, T], query: Q) -> str | None:
        """Why not to call this source now (None: call it)."""
        client = source.client
        if source.name in self._busy:
            return "still answering an earlier call"
        if self._states.state_of(source.name) == "offline":
            return "marked offline by health"
        if client.breaker.retry_in(client.now()) > 0:
            return "circuit open"
        if client.limiter.paused_for() > 0:
            return "paused by Retry-After"
        if source.gate is not None and source.gate.wait(self._clock()) > 0:
            return "quota allotment spent"
        if source.build(query) is None:
            return "nothing to ask"
        return None

    def available(self, query: Q) -> list[str]:
        """The providers that could be called now, in no particular order."""
        names = {
            self._by_member[id(m)].name
            for m in self.pool.members
            if self.skip_reason(self._by_member[id(m)], query) is None
        }
        return sorted(names)

    async def one(self, query: Q) -> PoolResult[T] | None:
        """The first available member's answer (failing over within the call); None when no
        member is available at all this cycle. Raises PoolExhaustedError if every one failed."""
        if not self.available(query):
            log.debug("%s: no provider available this cycle", self.name)
            return None
        return await self.pool.call(query)

    async def many(self, query: Q, want: int, *, patience: float | None = None) -> Answers[T]:
        """Answers from up to `want` distinct providers, asked at once. A lane owns the provider
        it took: if that provider's first endpoint fails, its other endpoints may still answer
        in the same lane before the lane moves on to another provider.

        With `patience`, returns after that many seconds even if some lanes are still waiting
        on a slow or hung provider: those lanes go on (`Answers.late`) until their call ends by
        itself (its own timeouts and retries), and that provider is not asked again meanwhile."""
        ordered = order_members(
            self.pool.members,
            self.pool.strategy,
            turn=self._turn,
            used=self.pool.used,
            rng=self._rng,
        )
        self._turn += 1
        owner: dict[str, int] = {}  # provider -> the lane that took it
        failures: list[ProviderError] = []
        lanes = min(want, len(self.available(query)))

        async def lane(me: int) -> PoolResult[T] | None:
            tried: list[ProviderError] = []
            for member in ordered:
                source = self._by_member[id(member)]
                if owner.get(source.name, me) != me or self.skip_reason(source, query) is not None:
                    continue
                owner[source.name] = me
                self._busy.add(source.name)
                try:
                    request = member.request(query)
                    self.pool.used[member.name] = self.pool.used.get(member.name, 0) + 1
                    value = await member.client.fetch(request, member.parse)
                except ProviderError as error:
                    tried.append(error)
                    failures.append(error)
                    continue
                finally:
                    self._busy.discard(source.name)
                return PoolResult(value=value, provider=member.name, failures=tuple(tried))
            return None

        tasks = [asyncio.create_task(lane(i), name=f"{self.name}-lane-{i}") for i in range(lanes)]
        if not tasks:
            return Answers((), ())
        try:
            done, pending = await asyncio.wait(tasks, timeout=patience)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        found = [t.result() for t in tasks if t in done]
        late = tuple(t for t in tasks if t in pending)
        if late:
            log.info("%s: %d provider(s) still answering after %ss", self.name, len(late), patience)
        return Answers(tuple(r for r in found if r is not None), tuple(failures), late)
