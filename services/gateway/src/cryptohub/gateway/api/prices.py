"""`/api/v1/prices`: latest consensus prices; one asset's consensus with every provider's."""

from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec
from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from cryptohub.common import subjects
from cryptohub.common.events import PriceTick
from cryptohub.gateway.api.cursor import decode_cursor, encode_cursor
from cryptohub.gateway.api.freshness import age_s, check_max_age, now
from cryptohub.gateway.api.params import (
    Cursor,
    Limit,
    MaxAge,
    SymbolPath,
    SymbolsQuery,
    parse_symbols,
    symbol_of,
)
from cryptohub.gateway.api.problems import ProblemError, problem_responses
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.runtime import Runtime

__all__ = ["CONSENSUS", "PriceOut", "consensus_prices", "get_price", "list_prices", "price_out"]

CONSENSUS: Final = "consensus"


class RejectedOut(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    price: float
    deviation_pct: float


class PriceOut(msgspec.Struct, frozen=True, kw_only=True):
    """One price, who gave it, when it was true and how old it is now."""

    symbol: str
    quote: str
    price: float
    source: str
    observed_at: datetime
    age_s: float
    volume_24h: float | None
    market_cap: float | None
    change_24h_pct: float | None
    contributors: list[str]
    rejected: list[RejectedOut]
    spread_pct: float | None
    confidence: float | None


class PriceList(msgspec.Struct, frozen=True, kw_only=True):
    """Latest consensus prices; `as_of`/`age_s`: the oldest price in `data`."""

    data: list[PriceOut]
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


class PriceDetail(msgspec.Struct, frozen=True, kw_only=True):
    """An asset's consensus price (null when none is current) and each provider's latest."""

    symbol: str
    consensus: PriceOut | None
    providers: list[PriceOut]
    as_of: datetime
    age_s: float


def price_out(tick: PriceTick, at: datetime) -> PriceOut:
    return PriceOut(
        symbol=tick.symbol,
        quote=tick.quote,
        price=tick.price,
        source=tick.source,
        observed_at=tick.observed_at,
        age_s=age_s(tick.observed_at, at) or 0.0,
        volume_24h=tick.volume_24h,
        market_cap=tick.market_cap,
        change_24h_pct=tick.change_24h_pct,
        contributors=list(tick.contributors),
        rejected=[
            RejectedOut(provider=r.provider, price=r.price, deviation_pct=r.deviation_pct)
            for r in tick.rejected
        ],
        spread_pct=tick.spread_pct,
        confidence=tick.confidence,
    )


def consensus_prices(live: LiveState) -> list[PriceTick]:
    """The latest consensus tick of every symbol, by symbol (a shared list: do not modify)."""
    return live.derived("consensus_prices", _consensus_prices)


def _consensus_prices(live: LiveState) -> list[PriceTick]:
    ticks: list[PriceTick] = []
    for msg in live.matching(subjects.all_prices()):
        held = live.of_source(msg.subject, CONSENSUS)
        if held is not None and isinstance(held.event, PriceTick):
            ticks.append(held.event)
    ticks.sort(key=lambda t: t.symbol)
    return ticks


class _Encoded(msgspec.Struct, frozen=True):
    """A consensus tick as `PriceOut` JSON, split around the value of `age_s`."""

    tick: PriceTick
    observed_us: int  # `tick.observed_at` in µs since the epoch: the age is exact integer maths
    head: bytes  # `{"symbol":…,"observed_at":"…","age_s":`
    tail: bytes  # `,"volume_24h":…}`


class _PriceListBody(msgspec.Struct, frozen=True, kw_only=True):
    """`PriceList` with its items already encoded (same fields, same order)."""

    data: msgspec.Raw  # the encoded list of `PriceOut`
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


_AGE: Final = b'"age_s":'
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)
_encode: Final = msgspec.json.encode


def _encoded_consensus_prices(live: LiveState) -> list[_Encoded]:
    return live.derived("consensus_prices_json", _encoded_consensus)


def _encoded_consensus(live: LiveState) -> list[_Encoded]:
    """`consensus_prices` with each tick's JSON, encoded once per change of the live state.

    `GET /prices` is the hottest route: building and encoding 20 `PriceOut`s per request was
    most of its cost. Only `age_s` depends on the request's time, so the rest is kept as bytes
    and the age spliced in per request. The first `"age_s":` is the field's key: a quote inside
    an encoded string is escaped, so no string value can contain that byte sequence.
    """
    encoded = []
    for tick in consensus_prices(live):
        body = _encode(price_out(tick, tick.observed_at))
        head, key, tail = body.partition(_AGE)
        age, comma, rest = tail.partition(b",")
        if not key or age != b"0.0" or not comma:
            raise AssertionError(f"unexpected PriceOut encoding: {body[:200]!r}")
        encoded.append(_Encoded(tick, (tick.observed_at - _EPOCH) // _US, head + key, comma + rest))
    return encoded


@get(
    "/prices",
    summary="Latest consensus prices",
    # The body is built from pre-encoded parts (see `_encoded_consensus`); its schema is this.
    responses={
        200: ResponseSpec(
            data_container=PriceList,
            description="Request fulfilled, document follows",
            generate_examples=False,
        ),
        **problem_responses(503),
    },
    sync_to_thread=False,
)
def list_prices(
    runtime: NamedDependency[Runtime],
    symbols: SymbolsQuery = None,
    limit: Limit = 1000,
    cursor: Cursor = None,
    max_age: MaxAge = None,
) -> Response[bytes]:
    """The consensus price of each asset (median of independent providers, outliers rejected).

    Filter with `symbols=btc,eth`. Only assets with a consensus appear; nothing is estimated.
    """
    wanted = parse_symbols(symbols)
    items = _encoded_consensus_prices(runtime.live)
    if wanted is not None:
        keep = set(wanted)
        items = [i for i in items if i.tick.symbol in keep]
    if cursor:
        (after,) = decode_cursor("prices", cursor, (str,))
        items = [i for i in items if i.tick.symbol > after]
    page = items[:limit]
    stalest = min(page, key=lambda i: i.tick.observed_at, default=None)
    as_of = stalest.tick.observed_at if stalest else None
    check_max_age(
        max_age, as_of, f"the consensus price of {stalest.tick.symbol if stalest else ''}"
    )
    at = now()
    at_us = (at - _EPOCH) // _US
    # = `age_s(observed_at, at)` (timedelta.total_seconds() is µs / 10**6 too), encoded at once.
    ages = [round(max(0, at_us - i.observed_us) / 10**6, 3) for i in page]
    ages_json = _encode(ages)[1:-1].split(b",") if ages else []
    items_json = b",".join([i.head + a + i.tail for i, a in zip(page, ages_json, strict=True)])
    body = _PriceListBody(
        data=msgspec.Raw(b"[" + items_json + b"]"),
        count=len(page),
        as_of=as_of,
        age_s=age_s(as_of, at),
        next_cursor=encode_cursor("prices", page[-1].tick.symbol) if len(items) > limit else None,
    )
    return Response(_encode(body), media_type=MediaType.JSON)


@get(
    "/prices/{symbol:str}",
    summary="One asset's consensus price with each provider's",
    responses=problem_responses(404, 503),
    sync_to_thread=False,
)
def get_price(
    runtime: NamedDependency[Runtime], symbol: SymbolPath, max_age: MaxAge = None
) -> PriceDetail:
    """The consensus (with its contributors, rejected quotes, spread and confidence) and the
    latest tick of every provider. 404 when no price of this asset was ever seen."""
    sym = symbol_of(symbol)
    by_source = runtime.live.by_source(subjects.price(sym))
    ticks = {src: m.event for src, m in by_source.items() if isinstance(m.event, PriceTick)}
    if not ticks:
        raise ProblemError(404, f"no price of {sym!r} has been seen")
    consensus = ticks.pop(CONSENSUS, None)
    newest = consensus.observed_at if consensus else max(t.observed_at for t in ticks.values())
    check_max_age(max_age, newest, f"the price of {sym}")
    at = now()
    return PriceDetail(
        symbol=sym,
        consensus=price_out(consensus, at) if consensus else None,
        providers=[price_out(ticks[src], at) for src in sorted(ticks)],
        as_of=newest,
        age_s=age_s(newest, at) or 0.0,
    )
