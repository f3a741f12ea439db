"""CryptoCompare (CoinDesk Data): batch prices from min-api `pricemulti`, candles from the
data-api index history (CADLI, an index price in USD).

Two hosts, so two declarations: `cryptocompare` (min-api) and `cryptocompare_data` (data-api).
Errors come back with HTTP 200 as `{"Response": "Error", "Message": ...}` (min-api) or a
non-empty `Err` object (data-api). min-api's rate-limit envelope becomes `RateLimitedError` (kind
`rate_limited`); data-api documents no rate-limit `Err`, so every `Err` stays invalid data.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.intervals import interval_seconds
from cryptohub.collector_market.providers.decoding import decode, non_empty, positive_price
from cryptohub.common.events import Candle, Interval, PriceTick
from cryptohub.common.providers import (
    ApiKey,
    InvalidDataError,
    KeyPlacement,
    ParseContext,
    ProviderSpec,
    RateLimitedError,
    RateLimits,
    Request,
)

NAME = "cryptocompare"
DATA_NAME = "cryptocompare_data"
_KEY = ApiKey("CRYPTOCOMPARE_API_KEY", KeyPlacement.QUERY, "api_key", required=False)
# Free tier as published: 100,000 calls a month; a per-minute bound keeps bursts polite.
_LIMITS = RateLimits(per_minute=60, monthly_credits=100_000)
SPEC = ProviderSpec(
    name=NAME,
    category="market",
    base_url="https://min-api.cryptocompare.com",
    key=_KEY,
    limits=_LIMITS,
)
DATA_SPEC = ProviderSpec(
    name=DATA_NAME,
    category="market",
    base_url="https://data-api.cryptocompare.com",
    key=_KEY,
    limits=_LIMITS,
)
# min-api refuses an fsyms list longer than 300 characters.
FSYMS_MAX_CHARS: Final = 300
# The history endpoints there are; other intervals are not offered by this provider here.
HISTORY_UNITS: Final[dict[Interval, str]] = {"1m": "minutes", "1h": "hours", "1d": "days"}
_UNIT_NAMES: Final[dict[Interval, str]] = {"1m": "MINUTE", "1h": "HOUR", "1d": "DAY"}


def pricemulti_request(codes: Sequence[str], quote: str = "USD") -> Request:
    """Prices of as many of `codes` (in order) as fit in one call."""
    chosen: list[str] = []
    length = 0
    for code in codes:
        extra = len(code) + (1 if chosen else 0)
        if length + extra > FSYMS_MAX_CHARS:
            break
        chosen.append(code)
        length += extra
    return Request(
        endpoint="pricemulti",
        path="/data/pricemulti",
        params={"fsyms": ",".join(chosen), "tsyms": quote},
    )


def history_request(code: str, interval: Interval, *, limit: int) -> Request:
    """The latest `limit` index bars of `code`-USD (CADLI)."""
    return Request(
        endpoint=f"history_{HISTORY_UNITS[interval]}",
        path=f"/index/cc/v1/historical/{HISTORY_UNITS[interval]}",
        params={"market": "cadli", "instrument": f"{code}-USD", "limit": max(1, min(limit, 2000))},
    )


_pricemulti = msgspec.json.Decoder(dict[str, dict[str, float]])


class _Refusal(msgspec.Struct):
    """min-api's error envelope, as far as the rate-limit check reads it."""

    Response: str | None = None
    Message: str | None = None
    Type: int | None = None


_refusal = msgspec.json.Decoder(_Refusal)
# min-api's documented rate-limit answer (HTTP 200), in CryptoCompare's own API guide
# (https://github.com/CryptoCompareLTD/api-guides, README "Rate limit"):
# {"Response": "Error", "Message": "You are over your rate limit please upgrade your account!",
#  "HasWarning": false, "Type": 99, "RateLimit": {...}, "Data": {}}
_RATE_LIMIT_TYPE: Final = 99
_RATE_LIMIT_MESSAGE: Final = "over your rate limit"


class _Bar(msgspec.Struct):
    UNIT: str
    TIMESTAMP: int
    INSTRUMENT: str
    OPEN: float
    HIGH: float
    LOW: float
    CLOSE: float
    VOLUME: float


class _History(msgspec.Struct):
    Data: list[_Bar]
    Err: dict[str, Any] = {}


_history = msgspec.json.Decoder(_History)


def parse_pricemulti(
    body: bytes, ctx: ParseContext, *, book: AssetBook, quotes: Sequence[str] = ("USD",)
) -> list[PriceTick]:
    """pricemulti -> a tick per watched asset and requested quote. No time is given: observed_at
    is when we received it."""
    try:
        table = decode(_pricemulti, body, NAME)
    except InvalidDataError:
        _raise_if_rate_limited(body)
        raise
    ticks = []
    for code, prices in table.items():
        asset = book.by_code(NAME, code)
        if asset is None:
            continue
        for quote in quotes:
            if quote not in prices:
                continue
            ticks.append(
                PriceTick(
                    source=NAME,
                    symbol=asset.symbol,
                    price=positive_price(prices[quote], f"{code}.{quote}"),
                    quote=quote.lower(),
                    observed_at=ctx.received_at,
                    received_at=ctx.received_at,
                )
            )
    return non_empty(ticks, "pricemulti: no watched asset priced")


def _raise_if_rate_limited(body: bytes) -> None:
    """RateLimitedError if `body` is min-api's rate-limit envelope. It gives no time to wait
    (its RateLimit block counts calls per window but says nothing of when one resets)."""
    try:
        refusal = _refusal.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return
    if refusal.Response != "Error":
        return
    message = refusal.Message or ""
    if refusal.Type == _RATE_LIMIT_TYPE or _RATE_LIMIT_MESSAGE in message.lower():
        raise RateLimitedError(f"{NAME} rate limited: {message or 'no message'}")


def parse_history(
    body: bytes, ctx: ParseContext, *, symbol: str, code: str, interval: Interval
) -> list[Candle]:
    """Index history -> candles; a bar whose period has ended when received is final."""
    answer = decode(_history, body, DATA_NAME)
    if answer.Err:
        raise InvalidDataError(f"{DATA_NAME} error: {answer.Err}")
    bars = non_empty(answer.Data, "historical")
    step = interval_seconds(interval)
    candles = []
    for bar in bars:
        if _UNIT_NAMES.get(interval) != bar.UNIT:
            raise InvalidDataError(f"{DATA_NAME}: bar unit {bar.UNIT} is not {interval}")
        base, _, quote = bar.INSTRUMENT.partition("-")
        if base != code or not quote:
            raise InvalidDataError(f"{DATA_NAME}: asked for {code}, got {bar.INSTRUMENT}")
        opened = datetime.fromtimestamp(bar.TIMESTAMP, UTC)
        closes = opened + timedelta(seconds=step)
        final = closes <= ctx.received_at
        candles.append(
            Candle(
                source=DATA_NAME,
                symbol=symbol,
                interval=interval,
                open_time=opened,
                open=bar.OPEN,
                high=bar.HIGH,
                low=bar.LOW,
                close=bar.CLOSE,
                volume=bar.VOLUME,
                quote=quote.lower(),
                is_final=final,
                observed_at=closes if final else ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return candles
