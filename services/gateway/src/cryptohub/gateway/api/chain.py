"""`/api/v1/chain/...`: gas prices (live), block heads and whale transfers (history)."""

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from cryptohub.common import subjects
from cryptohub.common.events import GasQuote
from cryptohub.gateway.api.cursor import decode_cursor, encode_cursor
from cryptohub.gateway.api.freshness import age_s, check_max_age, now
from cryptohub.gateway.api.params import ChainPath, Cursor, Limit, MaxAge, TimeQuery, aware
from cryptohub.gateway.api.problems import ProblemError, problem_responses
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.chain import blocks, whales

__all__ = ["get_gas", "list_blocks", "list_whales"]


class GasOut(msgspec.Struct, frozen=True, kw_only=True):
    chain: str
    slow_gwei: float
    standard_gwei: float
    fast_gwei: float
    base_fee_gwei: float | None
    block_number: int | None
    source: str
    observed_at: datetime
    age_s: float


class GasDetail(msgspec.Struct, frozen=True, kw_only=True):
    """The newest gas quote of a chain, and each provider's latest."""

    data: GasOut
    providers: list[GasOut]
    as_of: datetime
    age_s: float


def _gas_out(q: GasQuote, at: datetime) -> GasOut:
    return GasOut(
        chain=q.chain,
        slow_gwei=q.slow_gwei,
        standard_gwei=q.standard_gwei,
        fast_gwei=q.fast_gwei,
        base_fee_gwei=q.base_fee_gwei,
        block_number=q.block_number,
        source=q.source,
        observed_at=q.observed_at,
        age_s=age_s(q.observed_at, at) or 0.0,
    )


@get(
    "/chain/gas/{chain:str}",
    summary="Gas prices of a chain",
    responses=problem_responses(404, 503),
    sync_to_thread=False,
)
def get_gas(
    runtime: NamedDependency[Runtime], chain: ChainPath, max_age: MaxAge = None
) -> GasDetail:
    """Slow, standard and fast gas prices in gwei. 404 when none was seen for this chain."""
    name = chain.lower()
    quotes = [
        m.event
        for m in runtime.live.by_source(subjects.gas(name)).values()
        if isinstance(m.event, GasQuote)
    ]
    if not quotes:
        raise ProblemError(404, f"no gas prices of chain {name!r} have been seen")
    newest = max(quotes, key=lambda q: q.observed_at)
    check_max_age(max_age, newest.observed_at, f"the newest gas quote of {name}")
    at = now()
    return GasDetail(
        data=_gas_out(newest, at),
        providers=[_gas_out(q, at) for q in sorted(quotes, key=lambda q: q.source)],
        as_of=newest.observed_at,
        age_s=age_s(newest.observed_at, at) or 0.0,
    )


class BlockOut(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    hash: str
    tx_count: int
    gas_used: int | None
    base_fee_gwei: float | None
    source: str
    observed_at: datetime


class BlockList(msgspec.Struct, frozen=True, kw_only=True):
    """Newest blocks first; `as_of`/`age_s`: the newest block's observation."""

    chain: str
    data: list[BlockOut]
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


@get(
    "/chain/blocks/{chain:str}",
    summary="Recent blocks of a chain",
    responses=problem_responses(503),
)
async def list_blocks(
    runtime: NamedDependency[Runtime],
    chain: ChainPath,
    limit: Limit = 20,
    cursor: Cursor = None,
    max_age: MaxAge = None,
) -> BlockList:
    """Block heads, newest first, one per block number."""
    name = chain.lower()
    before = decode_cursor("blocks", cursor, (int,))[0] if cursor else None
    rows = await blocks(runtime.db, chain=name, before=before, limit=limit + 1)
    page = rows[:limit]
    as_of = max((r.observed_at for r in page), default=None)
    check_max_age(max_age, as_of, f"the newest block of {name}")
    return BlockList(
        chain=name,
        data=[
            BlockOut(
                number=r.number,
                hash=r.hash,
                tx_count=r.tx_count,
                gas_used=r.gas_used,
                base_fee_gwei=r.base_fee_gwei,
                source=r.source,
                observed_at=r.observed_at,
            )
            for r in page
        ],
        count=len(page),
        as_of=as_of,
        age_s=age_s(as_of),
        next_cursor=encode_cursor("blocks", page[-1].number) if len(rows) > limit else None,
    )


class WhaleOut(msgspec.Struct, frozen=True, kw_only=True):
    chain: str
    tx_hash: str
    from_address: str
    to_address: str
    symbol: str
    amount: float
    usd_value: float | None
    block_number: int | None
    source: str
    observed_at: datetime


class WhaleList(msgspec.Struct, frozen=True, kw_only=True):
    """Large transfers, newest first; `as_of`/`age_s`: the newest one's observation."""

    data: list[WhaleOut]
    count: int
    as_of: datetime | None
    age_s: float | None
    next_cursor: str | None


ChainQuery = Annotated[
    str | None,
    QueryParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", required=False),
]
MinUsd = Annotated[
    float | None,
    QueryParameter(
        ge=0, le=1e15, description="Only transfers worth at least this (USD).", required=False
    ),
]


@get("/chain/whales", summary="Whale transfers", responses=problem_responses(503))
async def list_whales(
    runtime: NamedDependency[Runtime],
    chain: ChainQuery = None,
    min_usd: MinUsd = None,
    since: TimeQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    max_age: MaxAge = None,
) -> WhaleList:
    """Large on-chain transfers, filtered by chain, USD value and time. A transfer without a USD
    value is left out when `min_usd` is given."""
    after = None
    if cursor:
        at, event_id = decode_cursor("whales", cursor, (datetime, uuid.UUID))
        after = (at, event_id)
    rows = await whales(
        runtime.db,
        chain=chain.lower() if chain else None,
        min_usd=min_usd,
        since=aware(since),
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    as_of = max((r.observed_at for r in page), default=None)
    check_max_age(max_age, as_of, "the newest whale transfer")
    last = page[-1] if page else None
    return WhaleList(
        data=[
            WhaleOut(
                chain=r.chain,
                tx_hash=r.tx_hash,
                from_address=r.from_address,
                to_address=r.to_address,
                symbol=r.symbol,
                amount=r.amount,
                usd_value=r.usd_value,
                block_number=r.block_number,
                source=r.source,
                observed_at=r.observed_at,
            )
            for r in page
        ],
        count=len(page),
        as_of=as_of,
        age_s=age_s(as_of),
        next_cursor=(
            encode_cursor("whales", last.observed_at, last.event_id)
            if last and len(rows) > limit
            else None
        ),
    )
