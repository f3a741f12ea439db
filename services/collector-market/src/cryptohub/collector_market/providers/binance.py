"""Binance spot: 24h tickers of every symbol in one call, and klines (candles).

Limits are request weight: 6,000 per minute per IP; `ticker/24hr` without a symbol weighs 80,
`klines` 2. Prices are quoted in USDT (`BTCUSDT`), and say so (`quote="usdt"`).
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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
    RateLimits,
    Request,
)

NAME = "binance"
SPEC = ProviderSpec(
    name=NAME,
    category="market",
    base_url="https://api.binance.com",
    limits=RateLimits(per_minute=6000),
    # 418: "IP auto-banned for continuing to send requests after receiving 429 codes", with a
    # Retry-After (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
    rate_limit_statuses=frozenset({429, 418}),
)
TICKER_WEIGHT = 80
KLINES_WEIGHT = 2
# Quote currencies we read, by the suffix of the pair name.
QUOTES: tuple[str, ...] = ("USDT",)

TICKERS = Request(endpoint="ticker_24hr", path="/api/v3/ticker/24hr", cost=TICKER_WEIGHT)


def klines_request(
    code: str, interval: Interval, *, limit: int, start: datetime | None = None
) -> Request:
    """Bars of `code`USDT; from `start` (its open time included) or the latest `limit`."""
    params: dict[str, str | int | float] = {
        "symbol": f"{code}USDT",
        "interval": interval,
        "limit": max(1, min(limit, 1000)),
    }
    if start is not None:
        params["startTime"] = int(start.timestamp() * 1000)
    return Request(endpoint="klines", path="/api/v3/klines", params=params, cost=KLINES_WEIGHT)


class _Ticker(msgspec.Struct):
    symbol: str
    lastPrice: str  # noqa: N815 - Binance's field names
    quoteVolume: str  # noqa: N815
    priceChangePercent: str  # noqa: N815
    closeTime: int  # noqa: N815


# One object for a single symbol, an array without one.
_tickers = msgspec.json.Decoder(list[_Ticker] | _Ticker)
# open time, open, high, low, close, volume, close time, quote volume, trades, taker base,
# taker quote, ignore
_Kline = tuple[int, str, str, str, str, str, int, str, int, str, str, str]
_klines = msgspec.json.Decoder(list[_Kline])


def _split(pair: str, quotes: Sequence[str]) -> tuple[str, str] | None:
    for quote in quotes:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    return None


def parse_tickers(
    body: bytes, ctx: ParseContext, *, book: AssetBook, quotes: Sequence[str] = QUOTES
) -> list[PriceTick]:
    """ticker/24hr -> a tick per watched asset's pair; other pairs are not looked at.

    Binance's closeTime only echoes the request time (a rolling window), so observed_at is when
    we received it. A watched pair with a zero or unreadable price invalidates the body.
    """
    decoded = decode(_tickers, body, NAME)
    rows = decoded if isinstance(decoded, list) else [decoded]
    non_empty(rows, "ticker/24hr")
    ticks = []
    for row in rows:
        split = _split(row.symbol, quotes)
        if split is None:
            continue
        code, quote = split
        asset = book.by_code(NAME, code)
        if asset is None or book.code_of(NAME, asset) != code:
            continue
        ticks.append(
            PriceTick(
                source=NAME,
                symbol=asset.symbol,
                price=positive_price(number(row.lastPrice, f"{row.symbol}.lastPrice"), row.symbol),
                quote=quote.lower(),
                volume_24h=number(row.quoteVolume, f"{row.symbol}.quoteVolume"),
                change_24h_pct=number(row.priceChangePercent, f"{row.symbol}.priceChangePercent"),
                observed_at=ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return non_empty(ticks, "ticker/24hr: no watched pair")


def parse_klines(
    body: bytes, ctx: ParseContext, *, symbol: str, interval: Interval
) -> list[Candle]:
    """klines -> candles of `symbol` in USDT. A bar whose close time has passed when we received
    it is final (observed at its close); the running bar is open (observed when received)."""
    rows = non_empty(decode(_klines, body, NAME), "klines")
    step_ms = interval_seconds(interval) * 1000
    received_ms = ctx.received_at.timestamp() * 1000
    candles = []
    for row in rows:
        open_ms, open_, high, low, close, volume, close_ms = row[:7]
        if close_ms - open_ms + 1 != step_ms:
            raise InvalidDataError(f"{NAME}: bar at {open_ms} is not {interval} long")
        final = close_ms < received_ms
        opened = datetime.fromtimestamp(open_ms / 1000, UTC)
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
                quote="usdt",
                is_final=final,
                observed_at=opened + timedelta(milliseconds=step_ms) if final else ctx.received_at,
                received_at=ctx.received_at,
            )
        )
    return candles
