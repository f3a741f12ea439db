"""Attempts from JetStream: a durable pull consumer to work on, a bounded history read at start."""

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import msgspec
import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from cryptohub.common import subjects
from cryptohub.common.events import ProviderAttempt, decode_as
from cryptohub.common.streams import PROVIDER

__all__ = ["AttemptFeed", "Delivery"]

log = logging.getLogger(__name__)

_ACK_WAIT: Final = 30.0
_HISTORY_BATCH: Final = 1000
_HISTORY_FETCH_TIMEOUT: Final = 2.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message of the durable consumer: its stream sequence and the attempt (None when the
    payload is unreadable)."""

    msg: Msg
    seq: int
    attempt: ProviderAttempt | None


class AttemptFeed:
    """`provider.attempt.*` through the durable consumer `durable` (explicit acks, batched pulls),
    or only the attempts of `providers` when given.

    A new consumer starts `since` (a bounded lookback, not the stream's whole week); an existing
    one resumes where it left off.
    """

    def __init__(
        self, js: JetStreamContext, *, durable: str, batch: int, providers: tuple[str, ...] = ()
    ) -> None:
        self._js = js
        self._durable = durable
        self._batch = batch
        self._filters = [subjects.provider_attempt(p) for p in providers] or [
            subjects.all_provider_attempts()
        ]
        self._sub: JetStreamContext.PullSubscription | None = None

    async def open(self, since: datetime) -> int:
        """Bind to (or create) the durable consumer; the stream sequence up to which a previous
        run acknowledged everything (0 for a new consumer)."""
        config = ConsumerConfig(
            durable_name=self._durable,
            description="health: every provider attempt, once",
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            ack_wait=_ACK_WAIT,
            max_ack_pending=max(1000, 4 * self._batch),
            filter_subjects=self._filters,
        )
        try:
            info = await self._js.consumer_info(PROVIDER.name, self._durable)
        except NotFoundError:
            info = None
        self._sub = await self._js.pull_subscribe(
            subjects.all_provider_attempts(),
            durable=self._durable,
            stream=PROVIDER.name,
            config=config,
        )
        if info is None or info.ack_floor is None:
            log.info("created durable consumer %s from %s", self._durable, since.isoformat())
            return 0
        floor: int = info.ack_floor.stream_seq
        return floor

    async def fetch(self, wait: float) -> list[Delivery]:
        """Up to one batch; empty when nothing came within `wait` seconds."""
        if self._sub is None:
            raise RuntimeError("AttemptFeed.open() first")
        try:
            msgs = await self._sub.fetch(self._batch, timeout=wait)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        return [Delivery(msg, msg.metadata.sequence.stream, _decode(msg)) for msg in msgs]

    async def history(self, since: datetime, upto_seq: int) -> AsyncIterator[ProviderAttempt]:
        """Attempts stored from `since` up to stream sequence `upto_seq`, through a throwaway
        consumer (no acks, in memory, deleted afterwards)."""
        if upto_seq <= 0:
            return
        config = ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            inactive_threshold=60.0,
            mem_storage=True,
            filter_subjects=self._filters,
        )
        sub = await self._js.pull_subscribe(
            subjects.all_provider_attempts(), stream=PROVIDER.name, config=config
        )
        name: str | None = None
        try:
            info = await sub.consumer_info()
            name = info.name
            left = info.num_pending or 0
            while left > 0:
                try:
                    msgs = await sub.fetch(
                        min(left, _HISTORY_BATCH), timeout=_HISTORY_FETCH_TIMEOUT
                    )
                except (TimeoutError, nats.errors.TimeoutError):
                    break
                for msg in msgs:
                    left -= 1
                    if msg.metadata.sequence.stream > upto_seq:
                        return
                    attempt = _decode(msg)
                    if attempt is not None:
                        yield attempt
        finally:
            await sub.unsubscribe()
            if name is not None:
                # Otherwise it goes by itself after inactive_threshold.
                with contextlib.suppress(nats.errors.Error):
                    await self._js.delete_consumer(PROVIDER.name, name)

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None


def _decode(msg: Msg) -> ProviderAttempt | None:
    try:
        return decode_as(msg.data, ProviderAttempt)
    except (msgspec.DecodeError, ValueError) as exc:
        log.warning("unreadable provider attempt on %s: %s", msg.subject, exc)
        return None
