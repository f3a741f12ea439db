"""Each asset's scored articles of the last 24 h, in a KV bucket all replicas update safely."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

from cryptohub.sentiment.windows import Contribution

__all__ = ["MAX_PER_ASSET", "AssetWindows", "ConflictError"]

log = logging.getLogger(__name__)

MAX_PER_ASSET: Final = 5000
_RETENTION: Final = timedelta(hours=24)
_MAX_TRIES: Final = 20


class _Stored(msgspec.Struct, array_like=True, frozen=True):
    article_id: str
    published_at: float  # epoch seconds
    score: float
    confidence: float


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[_Stored]).decode


class ConflictError(Exception):
    """Other replicas kept updating the same asset; the article is redelivered later."""

    def __init__(self, symbol: str, tries: int) -> None:
        super().__init__(f"asset {symbol}: {tries} conflicting updates in a row")
        self.symbol = symbol


def _contribution(s: _Stored) -> Contribution:
    return Contribution(
        article_id=s.article_id,
        published_at=datetime.fromtimestamp(s.published_at, UTC),
        score=s.score,
        confidence=s.confidence,
    )


class AssetWindows:
    """Key = symbol, value = its recent contributions. Updates are compare-and-set on the
    key's revision, so two replicas adding articles to the same asset lose neither; adding the
    same article again replaces it (a redelivered article is counted once)."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def _read(self, symbol: str) -> tuple[list[_Stored], int | None]:
        try:
            entry = await self._kv.get(symbol)
        except KeyNotFoundError:
            return [], None
        if not entry.value:
            return [], entry.revision
        try:
            return _decode(entry.value), entry.revision
        except msgspec.DecodeError:
            log.warning("asset %s: unreadable window in KV; starting it afresh", symbol)
            return [], entry.revision

    async def snapshot(self, symbol: str) -> tuple[list[Contribution], int | None]:
        """The asset's contributions and the KV revision they were read at."""
        stored, revision = await self._read(symbol)
        return [_contribution(s) for s in stored], revision

    async def forget(self, symbol: str, revision: int) -> bool:
        """Drop an asset whose articles all aged out, unless it changed since `revision`."""
        try:
            await self._kv.delete(symbol, last=revision)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def add(self, symbol: str, item: Contribution, *, now: datetime) -> list[Contribution]:
        """Add (or replace) one article's contribution; the asset's window after the update."""
        new = _Stored(item.article_id, item.published_at.timestamp(), item.score, item.confidence)
        oldest = (now - _RETENTION).timestamp()
        for _ in range(_MAX_TRIES):
            stored, revision = await self._read(symbol)
            kept = [
                s for s in stored if s.article_id != item.article_id and s.published_at > oldest
            ]
            kept.append(new)
            kept.sort(key=lambda s: s.published_at)
            kept = kept[-MAX_PER_ASSET:]
            payload = _encode(kept)
            try:
                if revision is None:
                    await self._kv.create(symbol, payload)
                else:
                    await self._kv.update(symbol, payload, last=revision)
            except KeyWrongLastSequenceError:
                continue
            return [_contribution(s) for s in kept]
        raise ConflictError(symbol, _MAX_TRIES)

    async def symbols(self) -> list[str]:
        try:
            return sorted(await self._kv.keys())
        except NoKeysError:
            return []
