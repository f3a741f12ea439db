"""Reading missed messages back from JetStream, bounded, for a client that resumes."""

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Literal

import msgspec
import nats.errors
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from cryptohub.common.events import decode
from cryptohub.common.streams import StreamSpec
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.ws.channels import matcher, patterns_collide, reduce_patterns

__all__ = ["History", "read_history"]

log = logging.getLogger(__name__)

GapReason = Literal["expired", "too_many", "too_old", "unknown_position", "timeout", "unavailable"]
_BATCH = 256


@dataclass(slots=True)
class History:
    """What a resume found: every matching message after the position up to `upto`, or a gap."""

    stream: str
    after: int
    upto: int
    messages: list[FeedMessage] = field(default_factory=list)
    gap: GapReason | None = None
    missed: int | None = None  # how many were missed, when known and not replayed


def _filters(patterns: Iterable[str], spec: StreamSpec) -> list[str] | None:
    """JetStream filter subjects for `patterns` on `spec`, or None when only a client-side filter
    works (JetStream refuses overlapping filters such as `a.*.c` with `a.b.*`)."""
    mine = reduce_patterns(
        p for p in patterns if any(patterns_collide(p, s) for s in spec.subjects)
    )
    if any(patterns_collide(a, b) for a, b in combinations(mine, 2)):
        return None
    return mine


async def read_history(
    js: JetStreamContext,
    spec: StreamSpec,
    patterns: list[str],
    *,
    after: int,
    upto: int | None,
    max_messages: int,
    max_age: timedelta,
    time_limit: float,
) -> History:
    """Messages of `spec` after sequence `after` and up to `upto` whose subject matches one of
    `patterns`, in stream order; a gap (with the reason) when they cannot all be replayed."""
    if upto is None:
        return History(spec.name, after, after, gap="unavailable")
    result = History(spec.name, after, upto)
    if after > upto:
        result.gap = "unknown_position"
        return result
    if after == upto:
        return result
    try:
        info = await js.stream_info(spec.name)
    except (TimeoutError, NotFoundError, nats.errors.Error) as exc:
        log.warning("resume: stream %s unavailable: %s", spec.name, exc)
        result.gap = "unavailable"
        return result
    if after + 1 < info.state.first_seq:
        result.gap = "expired"
        return result
    filters = _filters(patterns, spec)
    if filters == []:
        return result
    try:
        async with asyncio.timeout(time_limit):
            await _read(js, spec, patterns, filters, result, max_messages, max_age)
    except TimeoutError:
        result.gap, result.messages = "timeout", []
    except nats.errors.Error as exc:
        log.warning("resume: reading %s failed: %s", spec.name, exc)
        result.gap, result.messages = "unavailable", []
    return result


async def _read(
    js: JetStreamContext,
    spec: StreamSpec,
    patterns: list[str],
    filters: list[str] | None,
    result: History,
    max_messages: int,
    max_age: timedelta,
) -> None:
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=result.after + 1,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,
        mem_storage=True,
        filter_subjects=filters if filters and len(filters) > 1 else None,
    )
    sub = await js.pull_subscribe(
        filters[0] if filters and len(filters) == 1 else "", stream=spec.name, config=config
    )
    name = ""
    try:
        info = await sub.consumer_info()
        name = info.name
        pending = info.num_pending or 0
        if filters is not None and pending > max_messages:
            # Counted to the stream's end, so a little more than missed if events came since.
            result.gap, result.missed = "too_many", pending
            return
        match = [matcher(p) for p in patterns]
        oldest = datetime.now(UTC) - max_age
        while pending > 0:
            msgs = await sub.fetch(min(_BATCH, pending), timeout=5.0)
            for msg in msgs:
                meta = msg.metadata
                seq, pending = meta.sequence.stream, meta.num_pending
                if seq > result.upto:
                    return
                if not any(m(msg.subject) for m in match):
                    if seq == result.upto:
                        return
                    continue
                if meta.timestamp < oldest:
                    result.gap, result.messages = "too_old", []
                    return
                try:
                    event = decode(msg.data)
                except (msgspec.DecodeError, ValueError):
                    continue  # the live feed skips it too
                result.messages.append(
                    FeedMessage(msg.subject, event, msg.data, spec.name, seq, meta.timestamp)
                )
                if len(result.messages) > max_messages:
                    result.gap, result.messages = "too_many", []
                    return
                if seq == result.upto:
                    return
    finally:
        try:
            await sub.unsubscribe()
            if name:
                await js.delete_consumer(spec.name, name)
        except (TimeoutError, nats.errors.Error) as exc:
            log.debug("resume: removing consumer %s: %s", name, exc)
