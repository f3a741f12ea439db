"""`/api/v1/ohlcv`, `/global` and `/tvl`: candles from history, market totals and TVL live."""

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from cryptohub.common import subjects
from cryptohub.common.events import MarketGlobal, TvlPoint
from cryptohub.gateway.api.cursor import decode_cursor, encode_cursor
from cryptohub.gateway.api.freshness import age_s, check_max_age, now, oldest
from cryptohub.gateway.api.params import (
    Cursor,
    IntervalQuery,
    Limit,
    MaxAge,
    SymbolPath,
    TimeQuery,
    aware,
    symbol_of,
)
from cryptohub.gateway.api.problems import ProblemError, problem_responses
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.candles import candles

__all__ = ["get_global", "get_ohlcv", "list_tvl"]

SourceQuery = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Only this provider.", required=False
    ),
]


class CandleOut(msgspec.Struct, frozen=True, kw_only=True):
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    is_final: bool
    source: str
    observed_at: datetime


class CandleList(msgspec.Struct, frozen=True, kw_only=True):
    """Candles in ascending open time; `as_of`/`age_s`: the newest observation among them."""

    symbol: str
    interval: str
    data: list[CandleOut]
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


@get(
    "/ohlcv/{symbol:str}",
    summary="Candles of an asset",
    responses=problem_responses(503),
)
async def get_ohlcv(
    runtime: NamedDependency[Runtime],
    symbol: SymbolPath,
    interval: IntervalQuery = "1h",
    start: TimeQuery = None,
    end: TimeQuery = None,
    limit: Limit = 500,
    source: SourceQuery = None,
    cursor: Cursor = None,
    max_age: MaxAge = None,
) -> CandleList:
    """Candles from `start` on (or the latest `limit` before `end`), one per open time: a final
    candle wins over a provisional one. Page forwards with `next_cursor`."""
    sym = symbol_of(symbol)
    begin, until = aware(start), aware(end) or now() + timedelta(days=1)
    if cursor:
        (last,) = decode_cursor("ohlcv", cursor, (datetime,))
        try:
            begin = last + timedelta(microseconds=1)
        except OverflowError as exc:
            raise ProblemError(400, "malformed cursor: time out of range") from exc
    if begin is not None and begin >= until:
        raise ProblemError(400, "start must be before end")
    rows = await candles(
        runtime.db,
        symbol=sym,
        interval=interval,
        start=begin,
        end=until,
        limit=limit + 1 if begin is not None else limit,
        source=source,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    as_of = max((r.observed_at for r in rows), default=None)
    check_max_age(max_age, as_of, f"the newest {interval} candle of {sym}")
    return CandleList(
        symbol=sym,
        interval=interval,
        data=[
            CandleOut(
                open_time=r.open_time,
                open=r.open,
                high=r.high,
                low=r.low,
                close=r.close,
                volume=r.volume,
                is_final=r.is_final,
                source=r.source,
                observed_at=r.observed_at,
            )
            for r in rows
        ],
        count=len(rows),
        as_of=as_of,
        age_s=age_s(as_of),
        next_cursor=encode_cursor("ohlcv", rows[-1].open_time) if more else None,
    )


class GlobalOut(msgspec.Struct, frozen=True, kw_only=True):
    total_market_cap_usd: float
    total_volume_usd: float
    btc_dominance_pct: float
    eth_dominance_pct: float | None
    active_cryptocurrencies: int | None
    market_cap_change_24h_pct: float | None
    source: str
    observed_at: datetime
    age_s: float


class GlobalDetail(msgspec.Struct, frozen=True, kw_only=True):
    """The newest market totals, and each provider's latest."""

    data: GlobalOut
    providers: list[GlobalOut]
    as_of: datetime
    age_s: float


def _global_out(g: MarketGlobal, at: datetime) -> GlobalOut:
    return GlobalOut(
        total_market_cap_usd=g.total_market_cap_usd,
        total_volume_usd=g.total_volume_usd,
        btc_dominance_pct=g.btc_dominance_pct,
        eth_dominance_pct=g.eth_dominance_pct,
        active_cryptocurrencies=g.active_cryptocurrencies,
        market_cap_change_24h_pct=g.market_cap_change_24h_pct,
        source=g.source,
        observed_at=g.observed_at,
        age_s=age_s(g.observed_at, at) or 0.0,
    )


@get(
    "/global", summary="Market totals", responses=problem_responses(404, 503), sync_to_thread=False
)
def get_global(runtime: NamedDependency[Runtime], max_age: MaxAge = None) -> GlobalDetail:
    """Total market capitalisation, volume and dominance, as the newest provider reported them."""
    found = [
        m.event
        for m in runtime.live.by_source(subjects.market_global()).values()
        if isinstance(m.event, MarketGlobal)
    ]
    if not found:
        raise ProblemError(404, "no market totals have been seen")
    newest = max(found, key=lambda g: g.observed_at)
    check_max_age(max_age, newest.observed_at, "the newest market totals")
    at = now()
    return GlobalDetail(
        data=_global_out(newest, at),
        providers=[_global_out(g, at) for g in sorted(found, key=lambda g: g.source)],
        as_of=newest.observed_at,
        age_s=age_s(newest.observed_at, at) or 0.0,
    )


class TvlOut(msgspec.Struct, frozen=True, kw_only=True):
    protocol: str
    chain: str | None
    tvl_usd: float
    change_1d_pct: float | None
    source: str
    observed_at: datetime
    age_s: float


class TvlList(msgspec.Struct, frozen=True, kw_only=True):
    """Latest TVL of each protocol per provider; `as_of`/`age_s`: the oldest in `data`."""

    data: list[TvlOut]
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


@get("/tvl", summary="DeFi TVL by protocol", responses=problem_responses(503), sync_to_thread=False)
def list_tvl(
    runtime: NamedDependency[Runtime],
    limit: Limit = 100,
    cursor: Cursor = None,
    max_age: MaxAge = None,
) -> TvlList:
    """The latest total value locked of every protocol, from each provider that reports it."""
    points: list[TvlPoint] = []
    for msg in runtime.live.matching(subjects.all_tvl()):
        points += [
            m.event
            for m in runtime.live.by_source(msg.subject).values()
            if isinstance(m.event, TvlPoint)
        ]
    points.sort(key=lambda p: (p.protocol, p.source))
    if cursor:
        protocol, source = decode_cursor("tvl", cursor, (str, str))
        points = [p for p in points if (p.protocol, p.source) > (protocol, source)]
    page = points[:limit]
    as_of = oldest(p.observed_at for p in page)
    check_max_age(max_age, as_of, "the oldest TVL value")
    at = now()
    return TvlList(
        data=[
            TvlOut(
                protocol=p.protocol,
                chain=p.chain,
                tvl_usd=p.tvl_usd,
                change_1d_pct=p.change_1d_pct,
                source=p.source,
                observed_at=p.observed_at,
                age_s=age_s(p.observed_at, at) or 0.0,
            )
            for p in page
        ],
        count=len(page),
        as_of=as_of,
        age_s=age_s(as_of, at),
        next_cursor=(
            encode_cursor("tvl", page[-1].protocol, page[-1].source)
            if len(points) > limit
            else None
        ),
    )
