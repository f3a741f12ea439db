"""Provider states as health publishes them in KV `provider_state`, mirrored locally for pools."""

import asyncio
import logging
from typing import Protocol

import msgspec
from nats.js.kv import KeyValue

from cryptohub.common.events import ProviderState, ProviderStateRecord, decode_as

log = logging.getLogger(__name__)


class ProviderStates(Protocol):
    """What a pool needs to know: the state health last gave a provider (None: never seen)."""

    def state_of(self, provider: str) -> ProviderState | None: ...


class StaticProviderStates:
    """A fixed map of states: for a process without NATS, and for pure tests of the pool."""

    def __init__(self, states: dict[str, ProviderState] | None = None) -> None:
        self.states = dict(states or {})

    def state_of(self, provider: str) -> ProviderState | None:
        return self.states.get(provider)


class KvProviderStates:
    """Watches KV `provider_state` and keeps the latest record of every provider in memory.

    Reads are plain dict lookups on the hot path; the watch keeps them current within a few ms
    of health's write. An undecodable entry is logged and ignored, never fatal.
    """

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv
        self.records: dict[str, ProviderStateRecord] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def state_of(self, provider: str) -> ProviderState | None:
        record = self.records.get(provider)
        return record.state if record else None

    async def start(self, load_within: float = 5.0) -> None:
        """Start watching; returns once the current contents are loaded."""
        watcher = await self._kv.watchall()
        self._task = asyncio.create_task(self._follow(watcher), name="provider-state-watch")
        async with asyncio.timeout(load_within):
            await self._ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _follow(self, watcher: KeyValue.KeyWatcher) -> None:
        try:
            async for entry in watcher:
                if entry is None:  # end of the initial values
                    self._ready.set()
                    continue
                self._apply(entry)
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]

    def _apply(self, entry: KeyValue.Entry) -> None:
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            self.records.pop(entry.key, None)
            return
        try:
            self.records[entry.key] = decode_as(entry.value, ProviderStateRecord)
        except (msgspec.DecodeError, ValueError) as exc:
            log.warning("ignoring unreadable provider_state entry %r: %s", entry.key, exc)
