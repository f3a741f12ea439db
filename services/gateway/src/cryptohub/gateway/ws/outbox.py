"""One client's bounded send queue: price frames conflate, others drop oldest, drops are counted."""

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Entry", "Outbox"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A frame to send, where it came from, and (for prices) what newer frames replace it."""

    frame: str
    channel: str = ""
    stream: str = ""
    seq: int = 0
    key: str | None = None  # frames with the same key replace each other while queued


class Outbox:
    """A bounded FIFO of frames for one client's writer task.

    `offer` never blocks (the live feed calls it). Once the queue is half full (the client is
    falling behind), a frame whose `key` is already queued replaces that entry and moves to the
    back (so the queue stays in stream order); at capacity the oldest entry is dropped and counted
    by channel. `behind_since` is when the writer last had nothing
    left to send, or None while it keeps up: how long a client has been too slow.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._latest: dict[str, int] = {}  # conflation key -> position of its newest entry
        self._counter = 0
        self._dropped: Counter[str] = Counter()
        self.conflated = 0
        self.behind_since: float | None = None
        self.closed = False
        # The writer waiting in `get`, if any: a bare future, not an asyncio.Event, because it is
        # set and awaited once per frame per client (Event.wait costs several times more).
        self._waiter: asyncio.Future[None] | None = None
        self._space = asyncio.Event()
        self._space.set()

    def __len__(self) -> int:
        return len(self._entries)

    def _append(self, entry: Entry) -> None:
        if not self._entries:
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            if self.behind_since is None:
                self.behind_since = time.monotonic()
        self._counter += 1
        self._entries[self._counter] = entry
        if entry.key is not None:
            self._latest[entry.key] = self._counter
        if len(self._entries) >= self.capacity:
            self._space.clear()

    def _pop_oldest(self) -> Entry:
        position, entry = self._entries.popitem(last=False)
        if entry.key is not None and self._latest.get(entry.key) == position:
            del self._latest[entry.key]
        return entry

    def offer(self, entry: Entry) -> bool:
        """Queue a live frame; False if that pushed an older frame out."""
        if entry.key is not None and 2 * len(self._entries) >= self.capacity:
            position = self._latest.get(entry.key)
            if position is not None:
                del self._entries[position]
                self.conflated += 1
                self._append(entry)
                return True
        dropped = False
        if len(self._entries) >= self.capacity:
            old = self._pop_oldest()
            self._dropped[old.channel] += 1
            dropped = True
        self._append(entry)
        return not dropped

    def force(self, entry: Entry) -> None:
        """Queue a frame that must not be lost (a reply, a snapshot), even beyond capacity."""
        self._append(entry)

    async def put(self, entry: Entry) -> bool:
        """Queue a frame once there is room (history on resume): waits, never drops; False if
        the outbox was closed meanwhile."""
        while len(self._entries) >= self.capacity and not self.closed:
            self._space.clear()
            await self._space.wait()
        if self.closed:
            return False
        self._append(entry)
        return True

    def close(self) -> None:
        """Wake and refuse whoever waits in `put` (the connection is closing)."""
        self.closed = True
        self._space.set()

    async def get(self) -> Entry:
        """The oldest frame, waiting for one."""
        while not self._entries:
            self.behind_since = None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        entry = self._pop_oldest()
        if len(self._entries) < self.capacity:
            self._space.set()
        return entry

    def take_dropped(self) -> dict[str, int]:
        """Frames dropped since the last call, by channel (then forgotten)."""
        if not self._dropped:
            return {}
        dropped = dict(self._dropped)
        self._dropped.clear()
        return dropped

    def add_dropped(self, dropped: dict[str, int]) -> None:
        """Count frames dropped elsewhere (a resume's holding queue) as dropped here."""
        self._dropped.update(dropped)

    def drain(self) -> Iterator[Entry]:
        """Every queued frame, oldest first, removing them (to move them to another outbox)."""
        while self._entries:
            yield self._pop_oldest()
        self._space.set()
