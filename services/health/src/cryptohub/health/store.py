"""Health's KV: the provider_state records it publishes, and its own memory across restarts."""

import asyncio
import dataclasses
import logging
from typing import Final, TypeAlias

import msgspec
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from cryptohub.common.events import ProviderStateRecord, decode_as, encode
from cryptohub.common.streams import PROVIDER_STATE_KV, KvSpec, ensure_kv
from cryptohub.health.alertbook import OpenAlert
from cryptohub.health.tracker import ProviderMemo

__all__ = ["HEALTH_KV", "StateStore"]

log = logging.getLogger(__name__)

HEALTH_KV: Final = KvSpec(
    bucket="health",
    history=1,
    description="Health's memory: open alerts and provider window epochs, so that a restart "
    "neither flaps a state nor raises an alert twice.",
)

_Memory: TypeAlias = ProviderMemo | OpenAlert
_memory_encoder: Final = msgspec.json.Encoder()
_memory_decoder: Final = msgspec.json.Decoder(_Memory)
_LOAD_WITHIN: Final = 10.0


class StateStore:
    """KV `provider_state` (one ProviderStateRecord per provider) and health's own bucket
    (`provider.<name>`: a ProviderMemo; `alert.<cause key>`: an OpenAlert)."""

    def __init__(self, states: KeyValue, memory: KeyValue) -> None:
        self._states = states
        self._memory = memory

    @classmethod
    async def open(
        cls,
        js: JetStreamContext,
        *,
        state_bucket: str = PROVIDER_STATE_KV.bucket,
        memory_bucket: str = HEALTH_KV.bucket,
    ) -> "StateStore":
        states = await ensure_kv(js, dataclasses.replace(PROVIDER_STATE_KV, bucket=state_bucket))
        memory = await ensure_kv(js, dataclasses.replace(HEALTH_KV, bucket=memory_bucket))
        return cls(states, memory)

    async def load_records(self) -> list[ProviderStateRecord]:
        records = []
        for key, value in await _load(self._states):
            try:
                records.append(decode_as(value, ProviderStateRecord))
            except (msgspec.DecodeError, ValueError) as exc:
                log.warning("ignoring unreadable provider_state entry %r: %s", key, exc)
        return records

    async def load_memory(self) -> tuple[list[ProviderMemo], list[OpenAlert]]:
        memos: list[ProviderMemo] = []
        alerts: list[OpenAlert] = []
        for key, value in await _load(self._memory):
            try:
                item = _memory_decoder.decode(value)
            except (msgspec.DecodeError, ValueError) as exc:
                log.warning("ignoring unreadable health memory entry %r: %s", key, exc)
                continue
            if isinstance(item, ProviderMemo):
                memos.append(item)
            else:
                alerts.append(item)
        return memos, alerts

    async def put_record(self, record: ProviderStateRecord) -> None:
        await self._states.put(record.provider, encode(record))

    async def put_memo(self, memo: ProviderMemo) -> None:
        await self._memory.put(f"provider.{memo.provider}", _memory_encoder.encode(memo))

    async def put_alert(self, alert: OpenAlert) -> None:
        await self._memory.put(f"alert.{alert.key}", _memory_encoder.encode(alert))

    async def drop_alert(self, alert: OpenAlert) -> None:
        await self._memory.delete(f"alert.{alert.key}")


async def _load(kv: KeyValue) -> list[tuple[str, bytes]]:
    """Every live (key, value) of a bucket."""
    watcher = await kv.watchall(ignore_deletes=True)
    entries: list[tuple[str, bytes]] = []
    try:
        async with asyncio.timeout(_LOAD_WITHIN):
            async for entry in watcher:
                if entry is None:  # end of the current values
                    break
                if entry.value:
                    entries.append((entry.key, entry.value))
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]
    return entries
