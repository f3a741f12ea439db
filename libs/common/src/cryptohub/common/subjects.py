"""NATS subjects of every event: the only place a subject string is spelled out."""

import re
from typing import Final

from cryptohub.common.events import (
    Alert,
    AlertSeverity,
    Article,
    ArticleSentiment,
    AssetSentiment,
    BlockHead,
    Candle,
    Event,
    GasQuote,
    Interval,
    MarketGlobal,
    PriceTick,
    ProviderAttempt,
    ProviderStatusChange,
    SentimentIndex,
    TvlPoint,
    WhaleTransfer,
)

__all__ = [
    "PREFIX",
    "alert",
    "all_alerts",
    "all_asset_sentiment",
    "all_blocks",
    "all_candles",
    "all_gas",
    "all_prices",
    "all_provider_attempts",
    "all_provider_statuses",
    "all_sentiment_indexes",
    "all_tvl",
    "all_whales",
    "article_sentiment",
    "asset_sentiment",
    "block",
    "dead_letter",
    "dead_letters",
    "everything",
    "gas",
    "market_global",
    "news_article",
    "ohlcv",
    "pattern",
    "price",
    "provider_attempt",
    "provider_status",
    "sentiment_index",
    "subject_for",
    "tree",
    "tvl",
    "whale",
    "wildcard",
]

PREFIX: Final = "cryptohub.v1"

# Each placeholder is the name of the event field that fills it.
_LAYOUT: Final[dict[type[Event], str]] = {
    PriceTick: "market.price.{symbol}",
    Candle: "market.ohlcv.{symbol}.{interval}",
    MarketGlobal: "market.global",
    TvlPoint: "defi.tvl.{protocol}",
    GasQuote: "chain.gas.{chain}",
    BlockHead: "chain.block.{chain}",
    WhaleTransfer: "chain.whale.{chain}",
    Article: "news.article",
    ArticleSentiment: "sentiment.article",
    AssetSentiment: "sentiment.asset.{symbol}",
    SentimentIndex: "sentiment.index.{name}",
    ProviderAttempt: "provider.attempt.{provider}",
    ProviderStatusChange: "provider.status.{provider}",
    Alert: "alert.{severity}",
}
_PLACEHOLDER: Final = re.compile(r"\{(\w+)\}")
_FIELDS: Final = {kind: tuple(_PLACEHOLDER.findall(layout)) for kind, layout in _LAYOUT.items()}
_TOKEN: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _token(name: str, value: object) -> str:
    if not isinstance(value, str) or _TOKEN.fullmatch(value) is None:
        raise ValueError(
            f"{name} must be a lower-case subject token (a-z, 0-9, '_', '-'; no dots, spaces "
            f"or wildcards), got {value!r}"
        )
    return value


def _render(kind: type[Event], **tokens: str) -> str:
    checked = {name: _token(name, value) for name, value in tokens.items()}
    return f"{PREFIX}.{_LAYOUT[kind].format_map(checked)}"


def subject_for(event: Event) -> str:
    """The subject `event` is published on."""
    kind = type(event)
    return _render(kind, **{name: getattr(event, name) for name in _FIELDS[kind]})


def pattern(kind: type[Event]) -> str:
    """The documented form, e.g. `cryptohub.v1.market.price.{symbol}`."""
    return f"{PREFIX}.{_LAYOUT[kind]}"


def wildcard(kind: type[Event]) -> str:
    """The subject matching every event of `kind`, e.g. `cryptohub.v1.market.price.*`."""
    return _PLACEHOLDER.sub("*", pattern(kind))


def tree(root: str) -> str:
    """Everything under one top-level token, e.g. `tree("market")` -> `cryptohub.v1.market.>`."""
    return f"{PREFIX}.{_token('root', root)}.>"


def everything() -> str:
    """Every CryptoHub v1 subject."""
    return f"{PREFIX}.>"


# --- one subject


def price(symbol: str) -> str:
    return _render(PriceTick, symbol=symbol)


def ohlcv(symbol: str, interval: Interval) -> str:
    return _render(Candle, symbol=symbol, interval=interval)


def market_global() -> str:
    return _render(MarketGlobal)


def tvl(protocol: str) -> str:
    return _render(TvlPoint, protocol=protocol)


def gas(chain: str) -> str:
    return _render(GasQuote, chain=chain)


def block(chain: str) -> str:
    return _render(BlockHead, chain=chain)


def whale(chain: str) -> str:
    return _render(WhaleTransfer, chain=chain)


def news_article() -> str:
    return _render(Article)


def article_sentiment() -> str:
    return _render(ArticleSentiment)


def asset_sentiment(symbol: str) -> str:
    return _render(AssetSentiment, symbol=symbol)


def sentiment_index(name: str) -> str:
    return _render(SentimentIndex, name=name)


def provider_attempt(provider: str) -> str:
    return _render(ProviderAttempt, provider=provider)


def provider_status(provider: str) -> str:
    return _render(ProviderStatusChange, provider=provider)


def alert(severity: AlertSeverity) -> str:
    return _render(Alert, severity=severity)


# --- every subject of a kind, for subscribers


def all_prices() -> str:
    return wildcard(PriceTick)


def all_candles() -> str:
    return wildcard(Candle)


def all_tvl() -> str:
    return wildcard(TvlPoint)


def all_gas() -> str:
    return wildcard(GasQuote)


def all_blocks() -> str:
    return wildcard(BlockHead)


def all_whales() -> str:
    return wildcard(WhaleTransfer)


def all_asset_sentiment() -> str:
    return wildcard(AssetSentiment)


def all_sentiment_indexes() -> str:
    return wildcard(SentimentIndex)


def all_provider_attempts() -> str:
    return wildcard(ProviderAttempt)


def all_provider_statuses() -> str:
    return wildcard(ProviderStatusChange)


def all_alerts() -> str:
    return wildcard(Alert)


# --- dead letters: messages a consumer could not decode or validate (not events; no contract)


def dead_letter(stream: str) -> str:
    """Where a consumer of `stream` parks a message it cannot read, e.g.
    `cryptohub.v1.deadletter.market` (stream names are lower-cased into the token)."""
    return f"{PREFIX}.deadletter.{_token('stream', stream.lower())}"


def dead_letters() -> str:
    """Every dead-letter subject."""
    return tree("deadletter")
