"""JetStream streams and KV buckets, declared once and created idempotently by any service."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from cryptohub.common import subjects

__all__ = [
    "ALERTS",
    "CHAIN",
    "DEADLETTER",
    "MARKET",
    "NEWS",
    "PROVIDER",
    "PROVIDER_STATE_KV",
    "SENTIMENT",
    "STREAMS",
    "KvSpec",
    "StreamSpec",
    "ensure_kv",
    "ensure_streams",
    "stream_for_subject",
]

log = logging.getLogger(__name__)

# JetStream's "stream name already in use with a different configuration".
_STREAM_NAME_IN_USE: Final = 10058


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """A file-backed stream, retained by age, deduplicated on `Nats-Msg-Id`."""

    name: str
    subjects: tuple[str, ...]
    max_age: timedelta
    duplicate_window: timedelta
    description: str

    def config(self, *, replicas: int = 1) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            storage=StorageType.FILE,
            max_age=self.max_age.total_seconds(),
            duplicate_window=self.duplicate_window.total_seconds(),
            num_replicas=replicas,
        )


@dataclass(frozen=True, slots=True)
class KvSpec:
    """A file-backed KV bucket."""

    bucket: str
    history: int
    description: str

    def config(self, *, replicas: int = 1) -> KeyValueConfig:
        return KeyValueConfig(
            bucket=self.bucket,
            description=self.description,
            history=self.history,
            storage=StorageType.FILE,
            replicas=replicas,
        )


_DUPLICATE_WINDOW: Final = timedelta(minutes=2)

MARKET: Final = StreamSpec(
    "MARKET",
    (subjects.tree("market"), subjects.tree("defi")),
    timedelta(days=28),
    _DUPLICATE_WINDOW,
    "Prices, candles, market totals and DeFi TVL.",
)
CHAIN: Final = StreamSpec(
    "CHAIN",
    (subjects.tree("chain"),),
    timedelta(days=28),
    _DUPLICATE_WINDOW,
    "Gas, block heads and whale transfers.",
)
NEWS: Final = StreamSpec(
    "NEWS",
    (subjects.tree("news"),),
    timedelta(days=90),
    _DUPLICATE_WINDOW,
    "News articles.",
)
SENTIMENT: Final = StreamSpec(
    "SENTIMENT",
    (subjects.tree("sentiment"),),
    timedelta(days=90),
    _DUPLICATE_WINDOW,
    "Article and asset sentiment, sentiment indexes.",
)
PROVIDER: Final = StreamSpec(
    "PROVIDER",
    (subjects.tree("provider"),),
    timedelta(days=7),
    _DUPLICATE_WINDOW,
    "Provider call attempts and health state changes.",
)
ALERTS: Final = StreamSpec(
    "ALERTS",
    (subjects.tree("alert"),),
    timedelta(days=90),
    _DUPLICATE_WINDOW,
    "Alerts raised and resolved by health.",
)
STREAMS: Final = (MARKET, CHAIN, NEWS, SENTIMENT, PROVIDER, ALERTS)
# Not in STREAMS (which holds events only): the messages consumers could not read, kept for a
# person to look at. Created by the consumers that write to it (`ensure_streams(js,
# streams=(DEADLETTER,))`).
DEADLETTER: Final = StreamSpec(
    "DEADLETTER",
    (subjects.dead_letters(),),
    timedelta(days=30),
    _DUPLICATE_WINDOW,
    "Messages a consumer could not decode or validate, with the reason in headers.",
)

PROVIDER_STATE_KV: Final = KvSpec(
    bucket="provider_state",
    history=5,
    description="Each provider's health (ProviderStateRecord), keyed by provider; health writes.",
)


def _matches(filter_subject: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, a final `>` one or more."""
    wanted, tokens = filter_subject.split("."), subject.split(".")
    for i, want in enumerate(wanted):
        if want == ">":
            return len(tokens) > i
        if i >= len(tokens) or (want not in ("*", tokens[i])):
            return False
    return len(wanted) == len(tokens)


def stream_for_subject(subject: str) -> StreamSpec:
    """The stream that stores `subject`; ValueError if none does."""
    for spec in STREAMS:
        if any(_matches(filter_subject, subject) for filter_subject in spec.subjects):
            return spec
    raise ValueError(f"subject {subject!r} is in no stream")


def _ns(seconds: float | None) -> int:
    return round((seconds or 0) * 1e9)


def _differs(have: StreamConfig, want: StreamConfig) -> bool:
    """Whether the server's config differs from ours in anything we declare."""
    return (
        sorted(have.subjects or ()) != sorted(want.subjects or ())
        or _ns(have.max_age) != _ns(want.max_age)
        or _ns(have.duplicate_window) != _ns(want.duplicate_window)
        or have.description != want.description
        or have.num_replicas != want.num_replicas
        # The server refuses to change these two; a mismatch then fails loudly in update_stream.
        or have.storage != want.storage
        or have.retention != want.retention
    )


async def _ensure_stream(js: JetStreamContext, want: StreamConfig) -> bool:
    name = want.name or ""
    try:
        have = (await js.stream_info(name)).config
    except NotFoundError:
        try:
            await js.add_stream(want)
        except BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            # Another service created it, differently, between our look and our create.
            have = (await js.stream_info(name)).config
        else:
            log.info("created stream %s", name)
            return True
    if not _differs(have, want):
        return False
    await js.update_stream(want)
    log.info("updated stream %s", name)
    return True


async def ensure_streams(
    js: JetStreamContext, *, replicas: int = 1, streams: Iterable[StreamSpec] = STREAMS
) -> list[str]:
    """Create each stream, or update it where its config differs; the names changed.

    Idempotent: a second call returns an empty list. Safe to race with another service doing
    the same: JetStream accepts a create identical to what exists (both then report it).
    """
    return [
        spec.name for spec in streams if await _ensure_stream(js, spec.config(replicas=replicas))
    ]


async def ensure_kv(
    js: JetStreamContext, spec: KvSpec = PROVIDER_STATE_KV, *, replicas: int = 1
) -> KeyValue:
    """The bucket of `spec`, created if missing (an existing one is left as it is)."""
    try:
        return await js.key_value(spec.bucket)
    except BucketNotFoundError:
        log.info("creating KV bucket %s", spec.bucket)
        return await js.create_key_value(spec.config(replicas=replicas))
