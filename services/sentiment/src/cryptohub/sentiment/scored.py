"""Which articles a model version has already scored, shared by every replica (KV bucket)."""

import hashlib

import msgspec
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from cryptohub.common.events import ArticleSentiment, encode

__all__ = ["ScoredArticles", "scored_key"]

_encoder = msgspec.json.Encoder()


def scored_key(article_id: str, model: str, revision: str | None) -> str:
    """A KV-safe key for (article, model, revision): article ids and model names may hold any
    character, KV keys may not."""
    return hashlib.sha256(_encoder.encode([article_id, model, revision])).hexdigest()[:40]


class ScoredArticles:
    """`seen` before scoring, `mark` once the result is published."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def seen(self, article_id: str, model: str, revision: str | None) -> bool:
        try:
            await self._kv.get(scored_key(article_id, model, revision))
        except KeyNotFoundError:
            return False
        return True

    async def mark(self, result: ArticleSentiment) -> None:
        key = scored_key(result.article_id, result.model, result.model_revision)
        await self._kv.put(key, encode(result))
