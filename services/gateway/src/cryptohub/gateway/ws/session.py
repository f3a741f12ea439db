"""One `/ws` connection: its channels, subscribe / unsubscribe / resume, ping / pong."""

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cryptohub.common.streams import StreamSpec
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.ws import metrics
from cryptohub.gateway.ws.channels import (
    ChannelError,
    channel_of,
    conflation_key,
    normalise,
    patterns_collide,
    subject_pattern,
)
from cryptohub.gateway.ws.client import Client
from cryptohub.gateway.ws.frames import (
    ClientMessageError,
    control,
    data_frame,
    format_seq,
    parse_client_message,
    parse_seq,
)
from cryptohub.gateway.ws.history import History, read_history
from cryptohub.gateway.ws.outbox import Entry, Outbox

if TYPE_CHECKING:  # the hub imports this module; only the type is needed here
    from cryptohub.gateway.ws.hub import WebSocketHub

__all__ = ["StreamSession", "entry_for"]

log = logging.getLogger(__name__)

ACTIONS = ("subscribe", "unsubscribe", "ping", "pong")


def entry_for(msg: FeedMessage, frame: str) -> Entry:
    """The outbox entry of a data frame: prices conflate per symbol and source."""
    return Entry(
        frame,
        channel=channel_of(msg.subject),
        stream=msg.stream,
        seq=msg.seq,
        key=conflation_key(msg.subject, msg.event.source),
    )


class StreamSession(Client):
    """A `/ws` client. While it resumes, live frames wait in a holding outbox (same policies) and
    are released after the history, minus what the history already sent: no gap, no duplicate."""

    def __init__(self, hub: "WebSocketHub", socket: Any, *, address: str) -> None:
        super().__init__(socket, endpoint="ws", address=address, capacity=hub.config.queue_size)
        self.hub = hub
        self.channels: set[str] = set()
        self.holding: Outbox | None = None
        self._cursors: dict[str, int] = {}  # per stream: the last sequence a resume replayed

    def deliver(self, entry: Entry) -> None:
        if self.holding is not None:
            self.holding.offer(entry)
        else:
            self.offer(entry)

    async def handle(self, text: str | bytes) -> None:
        """Act on one client frame; a bad one gets an error frame."""
        try:
            message = parse_client_message(text)
            action = message["action"]
            if action == "subscribe":
                await self._subscribe(message)
            elif action == "unsubscribe":
                self._unsubscribe(message)
            elif action == "ping":
                self.reply(control("pong"))
            elif action == "pong":
                pass  # any frame counts as a sign of life
            elif "service" in message:
                raise ClientMessageError(
                    "wrong_endpoint",
                    "this is the channel protocol; the old hub's service protocol is at /ws/master",
                )
            else:
                raise ClientMessageError(
                    "unknown_action", f"unknown action {action!r:.40}; supported: {list(ACTIONS)}"
                )
        except ClientMessageError as exc:
            self.reply(control("error", code=exc.code, message=exc.message))

    def _channels(self, message: dict[str, Any]) -> list[str]:
        raw = message.get("channels")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise ClientMessageError("bad_request", "'channels' is a non-empty list of channels")
        if len(raw) > self.hub.config.max_subscriptions:
            raise ClientMessageError(
                "too_many_subscriptions",
                f"at most {self.hub.config.max_subscriptions} channels per connection",
            )
        names: list[str] = []
        errors: list[str] = []
        for item in raw:
            try:
                names.append(normalise(item))
            except ChannelError as exc:
                errors.append(str(exc))
        if errors:
            raise ClientMessageError("invalid_channel", "; ".join(errors[:5]))
        return list(dict.fromkeys(names))

    def _resume_positions(self, message: dict[str, Any]) -> dict[str, int]:
        raw = message.get("resume")
        if raw is None:
            return {}
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list):
            raise ClientMessageError(
                "invalid_resume", "'resume' is a position like 'MARKET:18342' or a list of them"
            )
        positions: dict[str, int] = {}
        for item in items:
            stream, seq = parse_seq(item)
            if stream not in self.hub.streams:
                known = sorted(self.hub.streams)
                raise ClientMessageError(
                    "invalid_resume", f"unknown stream {stream!r}; streams: {known}"
                )
            positions[stream] = max(seq, positions.get(stream, 0))
        return positions

    async def _subscribe(self, message: dict[str, Any]) -> None:
        names = self._channels(message)
        positions = self._resume_positions(message)
        new = [name for name in names if name not in self.channels]
        total = len(self.channels) + len(new)
        if total > self.hub.config.max_subscriptions:
            raise ClientMessageError(
                "too_many_subscriptions",
                f"{total} channels would exceed the limit of {self.hub.config.max_subscriptions}",
            )
        patterns = [subject_pattern(name) for name in new]
        resumed = {
            stream: seq
            for stream, seq in positions.items()
            if any(
                patterns_collide(p, s) for p in patterns for s in self.hub.streams[stream].subjects
            )
        }
        # Synchronous from here to the snapshot: no feed message can slip in between.
        if resumed:
            self.holding = Outbox(self.hub.config.queue_size)
        for name in new:
            self.channels.add(name)
            self.hub.index.add(subject_pattern(name), self)
        self.reply(control("subscribed", channels=new, subscriptions=sorted(self.channels)))
        snapshot = self.hub.snapshot(patterns)
        fresh = [msg for msg in snapshot if msg.stream not in resumed]
        self._send_snapshot(fresh)
        if not resumed:
            return
        held = {stream: [m for m in snapshot if m.stream == stream] for stream in resumed}
        try:
            await self._resume(patterns, resumed, held)
        finally:
            holding, self.holding = self.holding, None
            if holding is not None:
                self._release(holding)

    def _send_snapshot(self, messages: Iterable[FeedMessage]) -> None:
        for msg in messages:
            self.outbox.force(entry_for(msg, data_frame(msg, snapshot=True)))

    async def _resume(
        self,
        patterns: list[str],
        positions: dict[str, int],
        held: dict[str, list[FeedMessage]],
    ) -> None:
        config = self.hub.config
        specs: list[StreamSpec] = [self.hub.streams[stream] for stream in positions]
        upto = await asyncio.gather(*(self.hub.last_seq(spec.name) for spec in specs))
        histories = await asyncio.gather(
            *(
                read_history(
                    self.hub.js,
                    spec,
                    patterns,
                    after=positions[spec.name],
                    upto=last,
                    max_messages=config.resume_max_messages,
                    max_age=timedelta(seconds=config.resume_max_age_s),
                    time_limit=config.resume_timeout_s,
                )
                for spec, last in zip(specs, upto, strict=True)
            )
        )
        self._cursors = {}
        for history in histories:
            await self._replay(history, held[history.stream])

    async def _replay(self, history: History, snapshot: list[FeedMessage]) -> None:
        stream = history.stream
        if history.gap is None:
            for msg in history.messages:
                if not await self.outbox.put(entry_for(msg, data_frame(msg))):
                    return  # closed meanwhile
            self._cursors[stream] = history.upto
            metrics.resumes.labels("complete").inc()
            self.reply(
                control(
                    "resumed",
                    stream=stream,
                    after=format_seq(stream, history.after),
                    replayed=len(history.messages),
                    complete=True,
                )
            )
            return
        metrics.resumes.labels(history.gap).inc()
        self.reply(
            control(
                "resumed",
                stream=stream,
                after=format_seq(stream, history.after),
                replayed=0,
                complete=False,
                reason=history.gap,
                missed=history.missed,
            )
        )
        # The latest values as of the subscription instead: every live frame is newer.
        self._send_snapshot(snapshot)

    def _release(self, holding: Outbox) -> None:
        cursors = self._cursors
        for entry in holding.drain():
            if entry.stream in cursors and entry.seq <= cursors[entry.stream]:
                continue  # the history already sent it
            self.offer(entry)
        self.outbox.add_dropped(holding.take_dropped())

    def _unsubscribe(self, message: dict[str, Any]) -> None:
        names = self._channels(message)
        gone = [name for name in names if name in self.channels]
        for name in gone:
            self.channels.discard(name)
            self.hub.index.remove(subject_pattern(name), self)
        self.reply(control("unsubscribed", channels=gone, subscriptions=sorted(self.channels)))

    def forget(self) -> None:
        """Leave the index (the connection ended)."""
        for name in self.channels:
            self.hub.index.remove(subject_pattern(name), self)
        self.channels.clear()
