"""`/api/v1/status`: connections, persistence, provider health and freshness, as seen here."""

from datetime import datetime
from typing import Final, Literal

import msgspec
from litestar import get
from litestar.di import NamedDependency

from cryptohub.common import subjects
from cryptohub.gateway.api.freshness import age_s, now
from cryptohub.gateway.runtime import Runtime

__all__ = ["get_status"]

# What users read, by the subjects that carry it.
_KINDS: Final = {
    "prices": subjects.all_prices(),
    "candles": subjects.all_candles(),
    "market_global": subjects.market_global(),
    "tvl": subjects.all_tvl(),
    "gas": subjects.all_gas(),
    "blocks": subjects.all_blocks(),
    "whales": subjects.all_whales(),
    "news": subjects.news_article(),
    "article_sentiment": subjects.article_sentiment(),
    "asset_sentiment": subjects.all_asset_sentiment(),
    "sentiment_index": subjects.all_sentiment_indexes(),
    "provider_status": subjects.all_provider_statuses(),
    "alerts": subjects.all_alerts(),
}


class KindFreshness(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    subjects: int
    newest_at: datetime | None
    age_s: float | None


class StreamStatus(msgspec.Struct, frozen=True, kw_only=True):
    stream: str
    persisting: bool
    inserted: int
    duplicates: int
    dead_lettered: int
    last_commit_at: datetime | None


class ProviderCounts(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    online: int
    degraded: int
    offline: int
    half_open: int


class StatusOut(msgspec.Struct, frozen=True, kw_only=True):
    """`ok` when NATS and PostgreSQL answer and persistence runs, else `degraded`."""

    status: Literal["ok", "degraded"]
    nats_connected: bool
    database_ready: bool
    database_error: str | None = None  # why PostgreSQL is not ready (no secrets: a kind)
    started_at: datetime | None
    providers: ProviderCounts
    persistence: list[StreamStatus]
    freshness: list[KindFreshness]
    as_of: datetime
    # "replay": providers are served from recorded bodies (`cryptohub up --replay`), so the data
    # is real but dated when it was recorded, not live.
    mode: Literal["live", "replay"] = "live"


@get("/status", summary="Gateway status")
async def get_status(runtime: NamedDependency[Runtime]) -> StatusOut:
    """Connections, persistence per stream, provider health counts and how fresh each kind of
    data is (by the newest event this replica holds). `database_ready` is checked now: false
    while PostgreSQL does not answer, with the reason in `database_error`."""
    at = now()
    states = [] if runtime.provider_states is None else runtime.provider_states.records.values()
    counts = {"online": 0, "degraded": 0, "offline": 0, "half_open": 0}
    for record in states:
        counts[record.state] += 1
    freshness = []
    for kind, pattern in _KINDS.items():
        found = runtime.live.matching(pattern)
        newest = max((m.event.observed_at for m in found), default=None)
        freshness.append(
            KindFreshness(kind=kind, subjects=len(found), newest_at=newest, age_s=age_s(newest, at))
        )
    persistence = [
        StreamStatus(
            stream=p.stream,
            persisting=p.running,
            inserted=p.inserted,
            duplicates=p.duplicates,
            dead_lettered=p.dead_lettered,
            last_commit_at=p.last_commit_at,
        )
        for p in runtime.persisters
    ]
    db = runtime.db
    db_ready = db is not None and db.ready.is_set() and await db.ping(within=1.0)
    db_error = None if db_ready else "DATABASE_URL is not set" if db is None else db.last_error
    healthy = runtime.nc.is_connected and db_ready and all(p.persisting for p in persistence)
    return StatusOut(
        status="ok" if healthy else "degraded",
        nats_connected=runtime.nc.is_connected,
        database_ready=db_ready,
        database_error=db_error,
        started_at=runtime.started_at,
        providers=ProviderCounts(total=sum(counts.values()), **counts),
        persistence=persistence,
        freshness=freshness,
        as_of=at,
        mode="replay" if runtime.settings.replay else "live",
    )
