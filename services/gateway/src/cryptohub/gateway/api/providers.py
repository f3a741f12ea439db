"""`/api/v1/providers`: every provider's health as the health service keeps it (KV)."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from cryptohub.common.events import ProviderStateRecord
from cryptohub.gateway.api.cursor import decode_cursor, encode_cursor
from cryptohub.gateway.api.freshness import age_s, now
from cryptohub.gateway.api.params import Cursor, Limit, NamePath
from cryptohub.gateway.api.problems import ProblemError, problem_responses
from cryptohub.gateway.errors import DatabaseUnavailableError
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.history import status_changes

__all__ = ["ProviderOut", "get_provider", "list_providers", "provider_out", "provider_records"]


class ProviderOut(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's state; `age_s`: seconds since it entered that state."""

    name: str
    state: str
    reason: str
    since: datetime
    age_s: float
    next_probe_at: datetime | None
    success_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    calls: int
    last_error: str | None


class ProviderList(msgspec.Struct, frozen=True, kw_only=True):
    data: list[ProviderOut]
    count: int
    next_cursor: str | None


class ChangeOut(msgspec.Struct, frozen=True, kw_only=True):
    previous: str
    current: str
    reason: str
    observed_at: datetime


class ProviderDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's state and its latest transitions (`changes` is null while history is
    unavailable)."""

    data: ProviderOut
    changes: list[ChangeOut] | None


def provider_records(runtime: Runtime) -> list[ProviderStateRecord]:
    states = runtime.provider_states
    records = [] if states is None else list(states.records.values())
    return sorted(records, key=lambda r: r.provider)


def provider_out(r: ProviderStateRecord, at: datetime) -> ProviderOut:
    return ProviderOut(
        name=r.provider,
        state=r.state,
        reason=r.reason,
        since=r.since,
        age_s=age_s(r.since, at) or 0.0,
        next_probe_at=r.next_probe_at,
        success_rate=r.success_rate,
        p50_ms=r.p50_ms,
        p95_ms=r.p95_ms,
        calls=r.calls,
        last_error=r.last_error,
    )


StateFilter = Annotated[
    Literal["online", "degraded", "offline", "half_open"] | None,
    QueryParameter(name="state", required=False, description="Only providers in this state."),
]


@get("/providers", summary="Provider health", responses=problem_responses(), sync_to_thread=False)
def list_providers(
    runtime: NamedDependency[Runtime],
    state_: StateFilter = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ProviderList:
    """Every provider the health service tracks, by name."""
    records = provider_records(runtime)
    if state_ is not None:
        records = [r for r in records if r.state == state_]
    if cursor:
        (after,) = decode_cursor("providers", cursor, (str,))
        records = [r for r in records if r.provider > after]
    page = records[:limit]
    at = now()
    return ProviderList(
        data=[provider_out(r, at) for r in page],
        count=len(page),
        next_cursor=(
            encode_cursor("providers", page[-1].provider) if len(records) > limit else None
        ),
    )


@get("/providers/{name:str}", summary="One provider's health", responses=problem_responses(404))
async def get_provider(runtime: NamedDependency[Runtime], name: NamePath) -> ProviderDetail:
    """The provider's state and its last 20 state changes. 404 for a provider never seen."""
    slug = name.lower()
    states = runtime.provider_states
    record = None if states is None else states.records.get(slug)
    if record is None:
        raise ProblemError(404, f"no provider {slug!r} is tracked by health")
    try:
        changes = await status_changes(runtime.db, slug, 20)
    except DatabaseUnavailableError:
        changes_out = None
    else:
        changes_out = [
            ChangeOut(
                previous=c.previous, current=c.current, reason=c.reason, observed_at=c.observed_at
            )
            for c in changes
        ]
    return ProviderDetail(data=provider_out(record, now()), changes=changes_out)
