"""Deterministic `Nats-Msg-Id` of a fact, so replicas and retried publishes store it once."""

import hashlib
from datetime import UTC, datetime
from typing import Final, TypeAlias, assert_never

import msgspec

from cryptohub.common.events import (
    Alert,
    Article,
    ArticleSentiment,
    AssetSentiment,
    BlockHead,
    Candle,
    Event,
    GasQuote,
    MarketGlobal,
    PriceTick,
    ProviderAttempt,
    ProviderStatusChange,
    SentimentIndex,
    TvlPoint,
    WhaleTransfer,
)

__all__ = ["KeyPart", "message_id", "natural_key"]

KeyPart: TypeAlias = str | int | bool | None

_encoder: Final = msgspec.json.Encoder()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def natural_key(event: Event) -> tuple[KeyPart, ...]:
    """What identifies the fact within its kind and source, apart from `observed_at`."""
    match event:
        case PriceTick():
            return (event.symbol, event.quote)
        case Candle():
            return (event.symbol, event.interval, _iso(event.open_time), event.is_final)
        case MarketGlobal():
            return ()
        case TvlPoint():
            return (event.protocol, event.chain)
        case GasQuote():
            return (event.chain,)
        case BlockHead():
            return (event.chain, event.number)
        case WhaleTransfer():
            return (
                event.chain,
                event.tx_hash,
                event.from_address,
                event.to_address,
                event.symbol,
            )
        case Article():
            return (event.id,)
        case ArticleSentiment():
            return (event.article_id, event.model, event.model_revision)
        case AssetSentiment():
            return (event.symbol, event.window)
        case SentimentIndex():
            return (event.name,)
        case ProviderAttempt():  # every call is its own fact
            return (event.provider, event.endpoint, event.attempt, _iso(event.received_at))
        case ProviderStatusChange():
            return (event.provider, event.current)
        case Alert():
            return (event.id, event.state)
        case _:
            assert_never(event)


def message_id(event: Event) -> str:
    """32 hex chars of sha256 over source, kind, natural key and observed time.

    The same fact reported twice (two collector replicas, a retried publish) gets the same id,
    and JetStream's duplicate window drops the second copy.
    """
    kind = type(event).__struct_config__.tag
    parts = [event.source, kind, *natural_key(event), _iso(event.observed_at)]
    return hashlib.sha256(_encoder.encode(parts)).hexdigest()[:32]
