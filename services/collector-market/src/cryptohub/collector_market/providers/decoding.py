"""Strict reading of provider bodies: every failure is a ParseError or an InvalidDataError.

The provider client turns `ParseError` into the `parse` error kind (not the documented shape:
broken JSON, an unexpected envelope) and `InvalidDataError` into `invalid_data` (the shape is
right but the values must not be published: a missing field, a string where a number belongs,
a zero price, an empty list).
"""

import math
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from cryptohub.common.providers import InvalidDataError, ParseError

T = TypeVar("T")

# Common error envelopes of JSON APIs, read leniently before the strict decode so that the
# error says what the provider said instead of "expected array, got object".


class _Envelope(msgspec.Struct):
    error: Any = None  # CoinGecko, CoinPaprika, Kraken (a list), CoinCap
    Response: str | None = None  # CryptoCompare: "Error"
    Message: str | None = None
    code: int | None = None  # Binance: {"code": -1121, "msg": "Invalid symbol."}
    msg: str | None = None


def decode(decoder: msgspec.json.Decoder[T], body: bytes, provider: str) -> T:
    """`body` decoded strictly; ParseError for broken JSON, InvalidDataError for a wrong shape."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidDataError(f"{provider}: {_said(body) or exc}") from None
    except msgspec.DecodeError as exc:
        raise ParseError(f"{provider}: body is not JSON: {exc}") from None


def _said(body: bytes) -> str | None:
    """What an error envelope says, if the body is one."""
    try:
        envelope = msgspec.json.decode(body, type=_Envelope)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if envelope.Response == "Error":
        return f"error envelope: {envelope.Message or 'no message'}"
    if envelope.error:
        return f"error envelope: {envelope.error}"
    if envelope.code is not None and envelope.msg is not None:
        return f"error envelope: {envelope.code}: {envelope.msg}"
    return None


def number(text: str, field: str) -> float:
    """A decimal sent as a string (Binance, Kraken, CoinCap); InvalidDataError if it is not."""
    try:
        value = float(text)
    except ValueError:
        raise InvalidDataError(f"{field} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InvalidDataError(f"{field} must be finite, got {text!r}")
    return value


def optional_number(text: str | None, field: str) -> float | None:
    return None if text is None else number(text, field)


def positive_price(value: float, field: str) -> float:
    """A price we may publish: finite and > 0."""
    if not (math.isfinite(value) and value > 0):
        raise InvalidDataError(f"{field} must be a finite price > 0, got {value!r}")
    return value


def from_unix(seconds: float, field: str) -> datetime:
    """A UTC datetime from a Unix timestamp in seconds, refusing absurd values."""
    if not (math.isfinite(seconds) and 946_684_800 <= seconds <= 4_102_444_800):  # 2000..2100
        raise InvalidDataError(f"{field} is not a plausible Unix time, got {seconds!r}")
    return datetime.fromtimestamp(seconds, UTC)


def non_empty(items: list[T], what: str) -> list[T]:
    """`items`, or InvalidDataError: an empty answer is never a successful one."""
    if not items:
        raise InvalidDataError(f"{what}: nothing usable in the body")
    return items
