"""Every message CryptoHub puts on NATS, as frozen tagged msgspec Structs: the one contract."""

import functools
import math
import re
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, TypeAlias, TypeVar, get_args

import msgspec
import msgspec.inspect as mi

__all__ = [
    "EVENT_TYPES",
    "SLUG_PATTERN",
    "SYMBOL_PATTERN",
    "AlertSeverity",
    "AlertState",
    "Amount",
    "Article",
    "ArticleSentiment",
    "AssetSentiment",
    "BaseEvent",
    "BlockHead",
    "Candle",
    "Count",
    "ErrorKind",
    "Event",
    "GasQuote",
    "Interval",
    "MarketGlobal",
    "Percent",
    "Positive",
    "Price",
    "PriceTick",
    "Probability",
    "ProviderAttempt",
    "ProviderState",
    "ProviderStateRecord",
    "ProviderStatusChange",
    "RateLimitSeen",
    "RejectedQuote",
    "Score",
    "SentimentIndex",
    "SentimentLabel",
    "SentimentWindow",
    "Slug",
    "Symbol",
    "Text",
    "TvlPoint",
    "UtcDateTime",
    "WhaleTransfer",
    "decode",
    "decode_as",
    "encode",
]

# --- field types. Their constraints are declared here, once: msgspec enforces them on decode, the
# validators below on construction, and the JSON Schema shows them. Symbols and slugs become NATS
# subject tokens, so they hold no dots. `$(?!\n)`: Python's `$` also matches before a final
# newline; the lookahead forbids that and is still valid ECMA regex for the schema.

SYMBOL_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,31}$(?!\n)"
SLUG_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}$(?!\n)"

Symbol: TypeAlias = Annotated[
    str, msgspec.Meta(pattern=SYMBOL_PATTERN, description="Lower-case asset ticker, e.g. `btc`.")
]
Slug: TypeAlias = Annotated[
    str,
    msgspec.Meta(pattern=SLUG_PATTERN, description="Lower-case identifier, e.g. `coingecko`."),
]
Text: TypeAlias = Annotated[str, msgspec.Meta(min_length=1)]
Positive: TypeAlias = Annotated[float, msgspec.Meta(gt=0)]
Price: TypeAlias = Annotated[
    float, msgspec.Meta(gt=0, description="Finite and > 0, in the quote currency.")
]
Amount: TypeAlias = Annotated[float, msgspec.Meta(ge=0)]
Percent: TypeAlias = Annotated[float, msgspec.Meta(ge=0, le=100)]
Probability: TypeAlias = Annotated[float, msgspec.Meta(ge=0, le=1)]
Score: TypeAlias = Annotated[float, msgspec.Meta(ge=-1, le=1)]
Count: TypeAlias = Annotated[int, msgspec.Meta(ge=0)]
UtcDateTime: TypeAlias = Annotated[datetime, msgspec.Meta(tz=True)]

Interval: TypeAlias = Literal["1m", "5m", "15m", "1h", "4h", "1d"]
SentimentLabel: TypeAlias = Literal["bearish", "neutral", "bullish"]
SentimentWindow: TypeAlias = Literal["1h", "24h"]
ProviderState: TypeAlias = Literal["online", "degraded", "offline", "half_open"]
ErrorKind: TypeAlias = Literal[
    "timeout",
    "connect",
    "http_4xx",
    "rate_limited",
    "http_5xx",
    "too_large",
    "parse",
    "invalid_data",
    "circuit_open",
]
AlertSeverity: TypeAlias = Literal["info", "warning", "critical"]
AlertState: TypeAlias = Literal["open", "resolved"]

# --- validation. __post_init__ runs on construction and after each decode; it checks what the
# annotations declare (and that floats are finite) and normalises datetimes to UTC. Each class's
# checks are derived from its annotations on first use.

_Check: TypeAlias = Callable[[str, Any], Any]  # (field name, value) -> value normalised, or raise


def _range_text(t: mi.FloatType | mi.IntType) -> str:
    if t.ge is not None and t.le is not None:
        return f"in [{t.ge}, {t.le}]"
    bounds = ((">", t.gt), (">=", t.ge), ("<", t.lt), ("<=", t.le))
    return " and ".join(f"{op} {bound}" for op, bound in bounds if bound is not None)


def _in_range(value: float, t: mi.FloatType | mi.IntType) -> bool:
    return (
        (t.gt is None or value > t.gt)
        and (t.ge is None or value >= t.ge)
        and (t.lt is None or value < t.lt)
        and (t.le is None or value <= t.le)
    )


def _float_check(t: mi.FloatType) -> _Check:
    rule = " and ".join(filter(None, ("finite", _range_text(t))))

    def check(name: str, value: Any) -> Any:
        if type(value) is int:
            value = float(value)
        if not (math.isfinite(value) and _in_range(value, t)):
            raise ValueError(f"{name} must be {rule}, got {value!r}")
        return value

    return check


def _int_check(t: mi.IntType) -> _Check | None:
    rule = _range_text(t)
    if not rule:
        return None

    def check(name: str, value: Any) -> Any:
        if not _in_range(value, t):
            raise ValueError(f"{name} must be {rule}, got {value!r}")
        return value

    return check


def _str_check(t: mi.StrType) -> _Check | None:
    if t.pattern is not None:
        pattern = re.compile(t.pattern)
        shown = t.pattern.removesuffix(r"(?!\n)")

        def check(name: str, value: Any) -> Any:
            if pattern.search(value) is None:
                raise ValueError(
                    f"{name} must be non-empty and lower-case, matching {shown}, got {value!r}"
                )
            return value

        return check
    if t.min_length:

        def check_non_empty(name: str, value: Any) -> Any:
            if not value:
                raise ValueError(f"{name} must be non-empty, got {value!r}")
            return value

        return check_non_empty
    return None


def _to_utc(name: str, value: Any) -> Any:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _aware_to_utc(name: str, value: Any) -> Any:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return _to_utc(name, value)


def _literal_check(t: mi.LiteralType) -> _Check:
    allowed = frozenset(t.values)
    listed = ", ".join(repr(v) for v in t.values)

    def check(name: str, value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"{name} must be one of {listed}, got {value!r}")
        return value

    return check


def _optional(inner: _Check) -> _Check:
    return lambda name, value: None if value is None else inner(name, value)


def _each_item(inner: _Check) -> _Check:
    def check(name: str, value: Any) -> Any:
        for i, item in enumerate(value):
            inner(f"{name}[{i}]", item)
        return value

    return check


def _each_value(inner: _Check) -> _Check:
    def check(name: str, value: Any) -> Any:
        for key, item in value.items():
            inner(f"{name}[{key!r}]", item)
        return value

    return check


def _compile(t: mi.Type, *, decoded: bool) -> _Check | None:
    """The check a value of type `t` needs, or None.

    A `decoded` value already passed msgspec's checks of the same constraints (and JSON holds no
    NaN or infinity), so it only needs its datetimes normalised to UTC.
    """
    if isinstance(t, mi.Metadata):
        return _compile(t.type, decoded=decoded)
    if isinstance(t, mi.UnionType | mi.VarTupleType | mi.DictType):
        wrap: Callable[[_Check], _Check]
        if isinstance(t, mi.UnionType):  # only `X | None` occurs in events
            (inner,) = [m for m in t.types if not isinstance(m, mi.NoneType)]
            wrap = _optional
        elif isinstance(t, mi.VarTupleType):
            inner, wrap = t.item_type, _each_item
        else:
            inner, wrap = t.value_type, _each_value
        check = _compile(inner, decoded=decoded)
        return None if check is None else wrap(check)
    if isinstance(t, mi.DateTimeType):
        return _to_utc if decoded else _aware_to_utc
    if decoded:
        return None
    if isinstance(t, mi.FloatType):
        return _float_check(t)
    if isinstance(t, mi.IntType):
        return _int_check(t)
    if isinstance(t, mi.StrType):
        return _str_check(t)
    if isinstance(t, mi.LiteralType):
        return _literal_check(t)
    return None  # bool; nested Structs validate themselves


_Checks: TypeAlias = tuple[tuple[str, _Check], ...]
_CHECKS: dict[tuple[type, bool], _Checks] = {}

# Set while msgspec decodes through decode()/decode_as(); a ContextVar so that a thread or task
# constructing events at the same time still gets the full checks.
_decoding: ContextVar[bool] = ContextVar("_decoding", default=False)


def _checks_for(cls: type, *, decoded: bool) -> _Checks:
    checks = _CHECKS.get((cls, decoded))
    if checks is None:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)  # noqa: S101 (only Structs call this)
        checks = tuple(
            (f.name, check)
            for f in info.fields
            if (check := _compile(f.type, decoded=decoded)) is not None
        )
        _CHECKS[cls, decoded] = checks
    return checks


class _Contract(msgspec.Struct, frozen=True, kw_only=True):
    """Validates every field against its annotated constraints, on construction and decode."""

    def __post_init__(self) -> None:
        for name, check in _checks_for(type(self), decoded=_decoding.get()):
            value = getattr(self, name)
            normalised = check(name, value)
            if normalised is not value:
                msgspec.structs.force_setattr(self, name, normalised)


def _snake_case(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


class _Tagged(_Contract, frozen=True, kw_only=True, tag_field="type", tag=_snake_case):
    """A top-level payload: JSON object with `"type": "<snake_case class name>"`."""


class BaseEvent(_Tagged, frozen=True, kw_only=True):
    """Fields every event carries."""

    source: Annotated[
        Slug, msgspec.Meta(description="Provider that produced the fact, or the deriving service.")
    ]
    observed_at: Annotated[
        UtcDateTime, msgspec.Meta(description="When the fact is true, as the provider says (UTC).")
    ]
    received_at: Annotated[UtcDateTime, msgspec.Meta(description="When CryptoHub got it (UTC).")]


# --- market


class RejectedQuote(_Contract, frozen=True, kw_only=True):
    """A provider's price left out of a consensus tick, and how far it was from the median."""

    provider: Slug
    price: Price
    deviation_pct: float


class PriceTick(BaseEvent, frozen=True, kw_only=True):
    """Price of an asset in a quote currency, from one provider or their consensus."""

    symbol: Symbol
    price: Price
    quote: Symbol = "usd"
    volume_24h: Amount | None = None
    market_cap: Amount | None = None
    change_24h_pct: float | None = None
    contributors: tuple[Slug, ...] = ()
    rejected: tuple[RejectedQuote, ...] = ()
    spread_pct: Amount | None = None
    confidence: Probability | None = None


class Candle(BaseEvent, frozen=True, kw_only=True):
    """One OHLCV bar of an asset; final once its interval has closed."""

    symbol: Symbol
    interval: Interval
    open_time: UtcDateTime
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Amount
    quote: Symbol = "usd"
    is_final: bool

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.high < max(self.open, self.close, self.low):
            raise ValueError(
                f"high must be >= max(open, close, low), got high={self.high!r} "
                f"open={self.open!r} close={self.close!r} low={self.low!r}"
            )
        if self.low > min(self.open, self.close):
            raise ValueError(
                f"low must be <= min(open, close), got low={self.low!r} "
                f"open={self.open!r} close={self.close!r}"
            )


class MarketGlobal(BaseEvent, frozen=True, kw_only=True):
    """Totals of the whole crypto market: capitalisation, volume, dominance."""

    total_market_cap_usd: Amount
    total_volume_usd: Amount
    btc_dominance_pct: Percent
    eth_dominance_pct: Percent | None = None
    active_cryptocurrencies: Count | None = None
    market_cap_change_24h_pct: float | None = None


class TvlPoint(BaseEvent, frozen=True, kw_only=True):
    """Total value locked in a DeFi protocol, on one chain or on all of them."""

    protocol: Slug
    tvl_usd: Amount
    chain: Annotated[Slug | None, msgspec.Meta(description="None: all chains.")] = None
    change_1d_pct: float | None = None


# --- chain


class GasQuote(BaseEvent, frozen=True, kw_only=True):
    """Gas prices on a chain, in gwei, for slow, standard and fast inclusion."""

    chain: Slug
    slow_gwei: Amount
    standard_gwei: Amount
    fast_gwei: Amount
    base_fee_gwei: Amount | None = None
    block_number: Count | None = None


class BlockHead(BaseEvent, frozen=True, kw_only=True):
    """The newest block of a chain."""

    chain: Slug
    number: Count
    hash: Text
    tx_count: Count
    gas_used: Count | None = None
    base_fee_gwei: Amount | None = None


class WhaleTransfer(BaseEvent, frozen=True, kw_only=True):
    """A large on-chain transfer of an asset between two addresses."""

    chain: Slug
    tx_hash: Text
    from_address: Text
    to_address: Text
    symbol: Symbol
    amount: Positive
    usd_value: Amount | None = None
    block_number: Count | None = None


# --- news and sentiment


class Article(BaseEvent, frozen=True, kw_only=True):
    """A news article; observed_at is its publication time."""

    id: Text
    url: Text
    title: Text
    summary: str = ""
    outlet: Annotated[str | None, msgspec.Meta(description="Publication name.")] = None
    language: str | None = None
    symbols: tuple[Symbol, ...] = ()


class ArticleSentiment(BaseEvent, frozen=True, kw_only=True):
    """A model's sentiment of one news article."""

    article_id: Text
    model: Text
    model_revision: str | None = None
    label: SentimentLabel
    score: Score
    probabilities: dict[str, Probability] = msgspec.field(default_factory=dict)


class AssetSentiment(BaseEvent, frozen=True, kw_only=True):
    """Sentiment of an asset aggregated over the articles of a time window."""

    symbol: Symbol
    window: SentimentWindow
    score: Score
    label: SentimentLabel
    article_count: Count
    confidence: Probability


class SentimentIndex(BaseEvent, frozen=True, kw_only=True):
    """A published market sentiment index such as Fear & Greed (0 to 100)."""

    name: Slug
    value: Annotated[int, msgspec.Meta(ge=0, le=100)]
    classification: Text


# --- providers and health


class RateLimitSeen(_Contract, frozen=True, kw_only=True):
    """Rate-limit headers a provider sent with a response."""

    limit: Count | None = None
    remaining: Count | None = None
    reset_seconds: Amount | None = None
    retry_after_seconds: Amount | None = None


class ProviderAttempt(BaseEvent, frozen=True, kw_only=True):
    """One HTTP call to a provider and how it went."""

    provider: Slug
    endpoint: Text
    ok: bool
    status: Annotated[int, msgspec.Meta(ge=100, le=599)] | None = None
    latency_ms: Amount
    error_kind: ErrorKind | None = None
    error: Annotated[str | None, msgspec.Meta(description="Masked: never holds a key.")] = None
    attempt: Annotated[int, msgspec.Meta(ge=1, description="Retry number within the call.")] = 1
    rate_limit: RateLimitSeen | None = None


class ProviderStatusChange(BaseEvent, frozen=True, kw_only=True):
    """A provider's health state changed."""

    provider: Slug
    previous: ProviderState
    current: ProviderState
    reason: str


class Alert(BaseEvent, frozen=True, kw_only=True):
    """An alert raised (open) or cleared (resolved) by health."""

    id: Text
    rule: Text
    severity: AlertSeverity
    state: AlertState
    message: Text
    provider: Slug | None = None
    category: Slug | None = None


class ProviderStateRecord(_Tagged, frozen=True, kw_only=True):
    """A provider's current health, the value of KV bucket `provider_state` (key: provider)."""

    provider: Slug
    state: ProviderState
    reason: str
    since: UtcDateTime
    next_probe_at: UtcDateTime | None = None
    success_rate: Probability | None = None
    p50_ms: Amount | None = None
    p95_ms: Amount | None = None
    calls: Count = 0
    last_error: str | None = None


Event: TypeAlias = (
    PriceTick
    | Candle
    | MarketGlobal
    | TvlPoint
    | GasQuote
    | BlockHead
    | WhaleTransfer
    | Article
    | ArticleSentiment
    | AssetSentiment
    | SentimentIndex
    | ProviderAttempt
    | ProviderStatusChange
    | Alert
)
EVENT_TYPES: Final[tuple[type[Event], ...]] = get_args(Event)

# --- wire format

_T = TypeVar("_T", bound=msgspec.Struct)

_encoder: Final = msgspec.json.Encoder()
_decoder: Final[msgspec.json.Decoder[Event]] = msgspec.json.Decoder(Event)


def encode(event: Event | ProviderStateRecord) -> bytes:
    """JSON bytes of an event (or KV record), tagged with its `type`."""
    return _encoder.encode(event)


def decode(data: bytes) -> Event:
    """The event in `data`; raises msgspec.ValidationError naming the offending field."""
    token = _decoding.set(True)
    try:
        return _decoder.decode(data)
    finally:
        _decoding.reset(token)


@functools.cache
def _decoder_for(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode_as(data: bytes, kind: type[_T]) -> _T:
    """`data` decoded as one known kind, e.g. `decode_as(value, ProviderStateRecord)`."""
    token = _decoding.set(True)
    try:
        result: _T = _decoder_for(kind).decode(data)
    finally:
        _decoding.reset(token)
    return result
