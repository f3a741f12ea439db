"""Article dedupe across sources, polls, replicas and restarts, kept in a JetStream KV bucket.

One key per story, `a.<article id>` (the id is derived from the canonical URL), created with
JetStream's create-if-absent, so of two replicas that meet the same story only one publishes it.
Its value holds the title fingerprint and publish time; every replica watches the bucket and keeps
the recent titles in memory, so a story reaching us under another URL with a near-identical
headline within the title window is caught too. The bucket's TTL forgets stories after the
dedupe horizon; articles older than that are refused by the date policy before they get here.
"""

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, TypeAlias

import msgspec
import nats.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from cryptohub.collector_news.titles import RecentTitles, TitleEntry, fingerprint
from cryptohub.common.events import Article

__all__ = ["ArticleGate", "Verdict", "ensure_dedupe_bucket"]

log = logging.getLogger(__name__)

Verdict: TypeAlias = Literal["new", "duplicate_url", "duplicate_title"]

_PREFIX: Final = "a."
_PRUNE_EVERY: Final = timedelta(minutes=5)


class _Claim(msgspec.Struct, frozen=True):
    """The value of `a.<id>`: who claimed the story, its title fingerprint and publish time."""

    source: str
    title: str
    published: datetime
    duplicate_of: str | None = None


_encode = msgspec.json.Encoder().encode
_decode_claim = msgspec.json.Decoder(_Claim).decode


async def ensure_dedupe_bucket(js: JetStreamContext, bucket: str, ttl: timedelta) -> KeyValue:
    """The dedupe bucket, created (file-backed, TTL `ttl`) or its TTL brought up to date."""
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        log.info("creating KV bucket %s (ttl %s)", bucket, ttl)
        return await js.create_key_value(
            KeyValueConfig(
                bucket=bucket,
                description="collector-news: stories already published (key a.<article id>).",
                history=1,
                ttl=ttl.total_seconds(),
                storage=StorageType.FILE,
            )
        )
    status = await kv.status()
    if round(status.ttl or 0) != round(ttl.total_seconds()):
        config = dataclasses.replace(status.stream_info.config, max_age=ttl.total_seconds())
        await js.update_stream(config)
        log.info("KV bucket %s: ttl changed to %s", bucket, ttl)
    return kv


class ArticleGate:
    """Decides whether an article is a new story; admits each story once across replicas."""

    def __init__(
        self, kv: KeyValue, *, title_window: timedelta, similarity: float, keep: timedelta
    ) -> None:
        self._kv = kv
        self._titles = RecentTitles(window=title_window, similarity=similarity, keep=keep)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._pruned_at = datetime.now(UTC)
        # Revisions of our own claims whose watch echo has not come back yet: a late echo must
        # not bring back a claim released in the meantime.
        self._own_revisions: dict[str, int] = {}

    @property
    def known(self) -> int:
        """Stories in memory (claimed here or seen claimed by another replica)."""
        return len(self._titles)

    async def start(self, load_within: float = 10.0) -> None:
        """Load the stories the bucket holds, then follow new claims (other replicas' too)."""
        watcher = await self._kv.watch(f"{_PREFIX}>")
        self._task = asyncio.create_task(self._follow(watcher), name="news-dedupe-watch")
        async with asyncio.timeout(load_within):
            await self._ready.wait()
        log.info("dedupe: %d stories remembered", len(self._titles))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def admit(self, article: Article) -> Verdict:
        """`new` (and claimed) the first time a story is seen; a duplicate verdict after."""
        async with self._lock:
            self._maybe_prune()
            if self._titles.get(article.id) is not None:
                return "duplicate_url"
            title = fingerprint(article.title)
            near = self._titles.match(title, article.observed_at)
            claim = _Claim(
                source=article.source,
                title=title,
                published=article.observed_at,
                duplicate_of=near.article_id if near is not None else None,
            )
            try:
                revision = await self._kv.create(_PREFIX + article.id, _encode(claim))
            except KeyWrongLastSequenceError:
                return "duplicate_url"  # claimed by another replica; its watch entry follows
            self._own_revisions[article.id] = revision
            self._remember(article.id, claim)
            return "new" if near is None else "duplicate_title"

    async def release(self, article: Article) -> None:
        """Forget a claimed story whose publish failed, so the next poll tries it again."""
        async with self._lock:
            self._titles.discard(article.id)
            try:
                await self._kv.delete(_PREFIX + article.id)
            except (nats.errors.Error, TimeoutError):
                log.warning("dedupe: could not release %s; the bucket TTL will", article.id)

    def _remember(self, article_id: str, claim: _Claim) -> None:
        self._titles.add(TitleEntry(article_id, claim.title, claim.published))

    def _maybe_prune(self) -> None:
        now = datetime.now(UTC)
        if now - self._pruned_at >= _PRUNE_EVERY:
            self._titles.prune(now)
            self._pruned_at = now

    async def _follow(self, watcher: KeyValue.KeyWatcher) -> None:
        try:
            async for entry in watcher:
                if entry is None:
                    self._ready.set()
                    continue
                self._apply(entry)
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]

    def _apply(self, entry: KeyValue.Entry) -> None:
        article_id = entry.key.removeprefix(_PREFIX)
        own = self._own_revisions.get(article_id)
        if own is not None and entry.revision is not None:
            if entry.revision <= own:
                if entry.revision == own:
                    del self._own_revisions[article_id]
                return  # the echo of our own claim (already applied), or older history
            del self._own_revisions[article_id]
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            self._titles.discard(article_id)
            return
        try:
            claim = _decode_claim(entry.value)
        except (msgspec.DecodeError, ValueError):
            log.warning("dedupe: ignoring unreadable entry %r", entry.key)
            return
        self._remember(article_id, claim)
