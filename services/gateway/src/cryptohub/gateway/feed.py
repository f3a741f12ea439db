"""Every new event of every stream, decoded once per replica and handed to in-process listeners."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from cryptohub.common.events import Event, decode
from cryptohub.common.streams import STREAMS, StreamSpec
from cryptohub.gateway import metrics
from cryptohub.gateway.position import position_of

__all__ = ["FeedListener", "FeedMessage", "LiveFeed"]

log = logging.getLogger(__name__)

# An ordered consumer that misses two heartbeats is recreated from the last sequence it saw.
_IDLE_HEARTBEAT_S: Final = 2.0


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One event as it came off JetStream: decoded, with its raw JSON and stream position."""

    subject: str
    event: Event
    raw: bytes
    stream: str
    seq: int  # the JetStream stream sequence: unique and increasing within `stream`
    published_at: datetime  # when JetStream stored it (UTC)


FeedListener = Callable[[FeedMessage], None]


class LiveFeed:
    """Per-replica fan-out of new events: one ephemeral ordered consumer per stream.

    Each message is decoded once and given to every listener, synchronously and in stream order;
    a listener must not block (queue the work). An undecodable message is counted and skipped. A
    message at or below a sequence already delivered (a consumer recreated after a reconnect) is
    skipped too, so listeners never see a stream go backwards.
    """

    def __init__(self, nats_client: Client, *, streams: tuple[StreamSpec, ...] = STREAMS) -> None:
        self._nc = nats_client
        self._js: JetStreamContext = nats_client.jetstream()
        self._streams = streams
        self._listeners: list[FeedListener] = []
        self._subs: list[JetStreamContext.PushSubscription] = []
        self._last_seq: dict[str, int] = {}
        self._start_seq: dict[str, int] = {}

    def add_listener(self, listener: FeedListener) -> None:
        """Call `listener` with every new message, from now on."""
        self._listeners.append(listener)

    def last_seq(self, stream: str) -> int:
        """The highest sequence of `stream` delivered (or its last sequence when the feed began)."""
        return self._last_seq.get(stream, 0)

    def start_seq(self, stream: str) -> int:
        """The last sequence of `stream` when the feed began: events up to it came before the
        feed and reach this replica's live state only through PostgreSQL."""
        return self._start_seq.get(stream, 0)

    async def start(self) -> None:
        """Subscribe to every stream from its current end (events stored from now on)."""
        for spec in self._streams:
            info = await self._js.stream_info(spec.name)
            last = info.state.last_seq
            self._last_seq[spec.name] = last
            self._start_seq[spec.name] = last
            config = ConsumerConfig(
                filter_subjects=list(spec.subjects),
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=last + 1,
                inactive_threshold=60.0,
            )
            sub = await self._js.subscribe(
                spec.subjects[0],
                stream=spec.name,
                config=config,
                ordered_consumer=True,
                idle_heartbeat=_IDLE_HEARTBEAT_S,
                cb=self._on_msg,
            )
            _resume_after(sub, last)
            self._subs.append(sub)
        log.info("live feed on %d streams", len(self._subs))

    async def stop(self) -> None:
        subs, self._subs = self._subs, []
        for sub in subs:
            try:
                await sub.unsubscribe()
            except Exception as exc:  # noqa: BLE001 - closing: the connection may be gone already
                log.debug("unsubscribing the live feed: %s", exc)

    async def _on_msg(self, msg: Msg) -> None:
        try:
            stream, seq, stored_ns = position_of(msg.reply)
        except ValueError:
            return  # not a stream message (a control message nats-py let through)
        if seq <= self._last_seq.get(stream, 0):
            metrics.feed_skipped.labels(stream, "replayed").inc()
            return
        self._last_seq[stream] = seq
        try:
            event = decode(msg.data)
        except (msgspec.DecodeError, ValueError):
            metrics.feed_skipped.labels(stream, "undecodable").inc()
            log.warning("live feed: undecodable message on %s (seq %d) skipped", msg.subject, seq)
            return
        message = FeedMessage(
            subject=msg.subject,
            event=event,
            raw=msg.data,
            stream=stream,
            seq=seq,
            published_at=datetime.fromtimestamp(stored_ns / 1e9, UTC),
        )
        metrics.feed_messages.labels(stream).inc()
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:
                # One faulty listener must not starve the others or stop the feed.
                log.exception("live feed listener %r failed on %s", listener, msg.subject)


def _resume_after(sub: JetStreamContext.PushSubscription, seq: int) -> None:
    """Tell nats-py's ordered consumer where the stream stood when it began.

    nats-py recreates an ordered consumer that lost its heartbeat from `last delivered + 1`, and
    "last delivered" starts at 0: a reset before the first message would replay the whole stream.
    Seeding it with the stream's last sequence makes such a reset resume at the right place; the
    sequence floor in `_on_msg` still guards listeners if a nats-py version keeps it elsewhere.
    """
    jsi: Any = getattr(getattr(sub, "_sub", None), "_jsi", None)
    if jsi is not None and getattr(jsi, "_sseq", None) == 0:
        jsi._sseq = seq
