"""Kraken: Ticker of every pair in one call, and OHLC (candles).

Kraken answers errors with HTTP 200 and `{"error": ["EQuery:Unknown asset pair"]}`, so the
envelope is checked before anything else; its rate-limit errors become `RateLimitedError` (kind
`rate_limited`), every other error `InvalidDataError`. Pairs come back under Kraken's own names:
legacy `XXBTZUSD` (X-prefixed base, Z-prefixed quote) or plain `XBTUSDT` / `SOLUSD`.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.intervals import interval_seconds
from cryptohub.collector_market.providers.decoding import (
    decode,
    non_empty,
    number,
    positive_price,
)
from cryptohub.common.events import Candle, Interval, PriceTick
from cryptohub.common.providers import (
    InvalidDataError,
    ParseContext,
    ProviderSpec,
    RateLimitedError,
    RateLimits,
    Request,
)

NAME = "kraken"
# Public endpoints: about one call per second per IP.
SPEC = ProviderSpec(
    name=NAME,
    category="market",
    base_url="https://api.kraken.com",
    limits=RateLimits(per_second=1),
)

TICKERS = Request(endpoint="ticker", path="/0/public/Ticker")  # no pair: every pair

_LEGACY = re.compile(r"^X([A-Z0-9]{3})Z([A-Z]{3})$")
# Quote suffixes we read, longest first. ZUSD is the legacy spelling of USD, used only after a
# four-letter legacy base (USDTZUSD); XTZUSD is Tezos in USD.
_QUOTES: Final = (("ZUSD", "usd", 4), ("USDT", "usdt", 1), ("USDC", "usdc", 1), ("USD", "usd", 1))
# Kraken's rate-limit errors, sent with HTTP 200 in the `error` list. The REST rate limits guide
# (https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits) names "EAPI:Rate limit exceeded"
# and "EService: Throttled: [UNIX timestamp]" (try again after it; also seen without the space);
# the spot errors guide (https://docs.kraken.com/api/docs/guides/spot-errors) adds
# "EGeneral:Too many requests", which public endpoints answer. Matched by prefix; any other
# error stays invalid data.
_RATE_LIMITED: Final = ("EAPI:Rate limit exceeded", "EGeneral:Too many requests")
_THROTTLED: Final = re.compile(r"^EService:\s*Throttled(?::\s*(\d+(?:\.\d+)?))?")


def split_pair(pair: str) -> tuple[str, str] | None:
    """Kraken's pair name -> (base code, quote), e.g. XXBTZUSD -> (XBT, usd); None if the quote
    is not one we read."""
    legacy = _LEGACY.match(pair)
    if legacy is not None:
        base, quote = legacy.groups()
        return (base, quote.lower()) if quote == "USD" else None
    for suffix, quote, shortest_base in _QUOTES:
        if pair.endswith(suffix) and len(pair) - len(suffix) >= shortest_base:
            return pair[: -len(suffix)], quote
    return None


def ohlc_request(code: str, interval: Interval, *, since: datetime | None = None) -> Request:
    """Up to 720 recent bars of `code`USD (from `since` if given)."""
    params: dict[str, str | int | float] = {
        "pair": f"{code}USD",
        "interval": interval_seconds(interval) // 60,
    }
    if since is not None:
        params["since"] = int(since.timestamp())
    return Request(endpoint="ohlc", path="/0/public/OHLC", params=params)


class _Ticker(msgspec.Struct):
    c: tuple[str, str]  # last trade: price, lot volume
    v: tuple[str, str]  # volume: today, last 24 hours
    p: tuple[str, str]  # volume-weighted average price: today, last 24 hours


class _TickerAnswer(msgspec.Struct):
    error: list[str]
    result: dict[str, _Ticker] | None = None


# time, open, high, low, close, vwap, volume, count
_Bar = tuple[int, str, str, str, str, str, str, int]


class _OhlcAnswer(msgspec.Struct):
    error: list[str]
    result: dict[str, msgspec.Raw] | None = None


_ticker = msgspec.json.Decoder(_TickerAnswer)
_ohlc = msgspec.json.Decoder(_OhlcAnswer)
_bars = msgspec.json.Decoder(list[_Bar])
_last = msgspec.json.Decoder(int)


def _checked(errors: list[str], result: object, ctx: ParseContext) -> None:
    """The envelope: a rate-limit error is the provider saying "later", not bad data."""
    if errors:
        said = "; ".join(errors)
        for error in errors:
            if error.startswith(_RATE_LIMITED):
                raise RateLimitedError(f"{NAME} rate limited: {said}")
            throttled = _THROTTLED.match(error)
            if throttled is not None:
                until = throttled.group(1)
                wait = None if until is None else float(until) - ctx.received_at.timestamp()
                raise RateLimitedError(f"{NAME} rate limited: {said}", retry_after_s=wait)
        raise InvalidDataError(f"{NAME} error: {said}")
    if result is None:
        raise InvalidDataError(f"{NAME}: answer has neither error nor result")


def parse_ticker(body: bytes, ctx: ParseContext, *, book: AssetBook) -> list[PriceTick]:
    """Ticker -> a tick per watched asset and quote (USD, USDT, USDC) Kraken lists.

    Price is the last trade; the 24h quote volume is the 24h base volume times its 24h VWAP
    (which is what the VWAP is). Kraken gives no time: observed_at is when we received it.
    """
    answer = decode(_ticker, body, NAME)
    _checked(answer.error, answer.result, ctx)
    ticks = []
    for pair, row in (answer.result or {}).items():
        split = split_pair(pair)
        if split is None:
            continue
        code, quote = split
        asset = book.by_code(NAME, code)
        if asset is None:
            continue
        volume = number(row.v[1], f"{pair}.v") * number(row.p[1], f"{pair}.p")
        ticks.append(
            PriceTick(
                source=NAME,
                symbol=asset.symbol,
                price=positive_price(number(row.c[0], f"{pair}.c"), pair),
                quote=quote,
                volume_24h=volume,
                observed_at=ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "Ticker: no watched pair")


def parse_ohlc(
    body: bytes, ctx: ParseContext, *, symbol: str, code: str, interval: Interval
) -> list[Candle]:
    """OHLC -> candles. Bars up to `last` are committed (final, observed at their close); the
    last bar is the running one (open, observed when received)."""
    answer = decode(_ohlc, body, NAME)
    _checked(answer.error, answer.result, ctx)
    result = dict(answer.result or {})
    if "last" not in result:
        raise InvalidDataError(f"{NAME}: OHLC answer has no 'last'")
    last = decode(_last, result.pop("last"), NAME)
    if len(result) != 1:
        raise InvalidDataError(f"{NAME}: OHLC answer holds {len(result)} pairs, expected one")
    [(pair, raw)] = result.items()
    split = split_pair(pair)
    if split is None or split[0] != code:
        raise InvalidDataError(f"{NAME}: asked for {code}, got pair {pair}")
    quote = split[1]
    step = interval_seconds(interval)
    bars = non_empty(decode(_bars, raw, NAME), "OHLC")
    candles = []
    for opened_s, open_, high, low, close, _vwap, volume, _count in bars:
        if opened_s % step:
            raise InvalidDataError(f"{NAME}: bar at {opened_s} is not on the {interval} grid")
        final = opened_s <= last
        opened = datetime.fromtimestamp(opened_s, UTC)
        candles.append(
            Candle(
                source=NAME,
                symbol=symbol,
                interval=interval,
                open_time=opened,
                open=number(open_, "open"),
                high=number(high, "high"),
                low=number(low, "low"),
                close=number(close, "close"),
                volume=number(volume, "volume"),
                quote=quote,
                is_final=final,
                observed_at=opened + timedelta(seconds=step) if final else ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return candles
