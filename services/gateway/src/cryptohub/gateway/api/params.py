"""Validated request inputs shared by the routes: symbols, chains, limits, times, freshness."""

import re
from datetime import UTC, datetime
from typing import Annotated, Final, Literal, TypeAlias

from litestar.params import PathParameter, QueryParameter

from cryptohub.gateway.api.problems import ProblemError

__all__ = [
    "MAX_LIMIT",
    "ChainPath",
    "Cursor",
    "IntervalQuery",
    "Limit",
    "MaxAge",
    "NamePath",
    "SymbolPath",
    "SymbolsQuery",
    "TimeQuery",
    "aware",
    "parse_symbols",
    "symbol_of",
]

MAX_LIMIT: Final = 1000
_SYMBOL: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
_SLUG: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

SymbolPath: TypeAlias = Annotated[
    str,
    PathParameter(
        pattern=_SYMBOL,
        max_length=32,
        description="Asset ticker, e.g. `btc` (case-insensitive).",
    ),
]
ChainPath: TypeAlias = Annotated[
    str,
    PathParameter(pattern=_SLUG, max_length=64, description="Chain slug, e.g. `ethereum`."),
]
NamePath: TypeAlias = Annotated[
    str,
    PathParameter(pattern=_SLUG, max_length=64, description="Identifier, e.g. `coingecko`."),
]
Interval: TypeAlias = Literal["1m", "5m", "15m", "1h", "4h", "1d"]
IntervalQuery: TypeAlias = Annotated[Interval, QueryParameter(description="Candle interval.")]
Limit: TypeAlias = Annotated[
    int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Items per page, 1 to {MAX_LIMIT}.")
]
MaxAge: TypeAlias = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=10**9,
        description="Seconds. Answer 503 instead of data older than this.",
        required=False,
    ),
]
Cursor: TypeAlias = Annotated[
    str | None,
    QueryParameter(
        max_length=512,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="`next_cursor` of the previous page.",
        required=False,
    ),
]
SymbolsQuery: TypeAlias = Annotated[
    str | None,
    QueryParameter(
        max_length=2000,
        pattern=r"^[A-Za-z0-9_,-]*$",
        description="Comma-separated tickers, e.g. `btc,eth`.",
        required=False,
    ),
]
_RFC3339: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
TimeQuery: TypeAlias = Annotated[
    str | None,
    QueryParameter(
        pattern=_RFC3339,
        format="date-time",
        max_length=40,
        description="RFC 3339 time with its offset, e.g. `2026-11-21T09:30:00Z`.",
        required=False,
    ),
]


def symbol_of(value: str) -> str:
    """A ticker as the events spell it (lower case)."""
    return value.lower()


def parse_symbols(value: str | None, *, max_count: int = 200) -> list[str] | None:
    """`btc,ETH` → ["btc", "eth"]; None when not given; 400 for a bad or too long list."""
    if value is None or value == "":
        return None
    pattern = re.compile(_SYMBOL)
    symbols = [part.strip().lower() for part in value.split(",") if part.strip()]
    bad = [s for s in symbols if not pattern.match(s)]
    if bad:
        raise ProblemError(400, f"invalid symbols: {', '.join(bad[:5])}")
    if len(symbols) > max_count:
        raise ProblemError(400, f"at most {max_count} symbols at once")
    return list(dict.fromkeys(symbols))


def aware(text: str | None) -> datetime | None:
    """A query time (RFC 3339, checked by its pattern) as an aware UTC datetime; 400 if it is
    no real time (e.g. month 13) or out of range."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ProblemError(400, f"not a valid time: {text!r}") from exc
