"""`/healthz`, `/readyz` and `/metrics`: for the orchestrator and the scraper, not for users."""

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from cryptohub.gateway.runtime import Runtime

__all__ = ["docs", "healthz", "metrics", "readyz"]


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """Whether this replica can serve: NATS connected, PostgreSQL migrated and answering."""

    ready: bool
    nats: bool
    database: bool
    live_state_warmed: bool
    persisting: bool
    problems: list[str]


@get("/healthz", summary="Liveness", sync_to_thread=False, include_in_schema=True)
def healthz() -> Health:
    """200 while the process serves requests."""
    return Health(status="ok")


@get(
    "/readyz",
    summary="Readiness",
    responses={503: ResponseSpec(Readiness, description="Not ready: `problems` says why.")},
)
async def readyz(runtime: NamedDependency[Runtime]) -> Response[Readiness]:
    """200 when this replica is ready for traffic, else 503 with what is missing."""
    problems: list[str] = []
    nats_ok = runtime.nc.is_connected
    if not nats_ok:
        problems.append("NATS is not connected")
    db_ok = runtime.db is not None and runtime.db.ready.is_set() and await runtime.db.ping()
    if runtime.db is None:
        problems.append("no DATABASE_URL configured")
    elif not db_ok:
        problems.append(f"PostgreSQL unavailable ({runtime.db.last_error or 'starting'})")
    warmed = runtime.warmed.is_set()
    if not warmed:
        problems.append("live state not warmed from PostgreSQL yet")
    persisting = bool(runtime.persisters) and all(p.running for p in runtime.persisters)
    if runtime.settings.persist and runtime.db is not None and not persisting:
        problems.append("persistence consumers not running")
    body = Readiness(
        ready=not problems,
        nats=nats_ok,
        database=db_ok,
        live_state_warmed=warmed,
        persisting=persisting,
        problems=problems,
    )
    return Response(body, status_code=200 if not problems else 503)


@get("/docs", include_in_schema=False, sync_to_thread=False)
def docs() -> Redirect:
    """The interactive API documentation lives under the schema path."""
    return Redirect("/schema/docs")


@get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE_LATEST, sync_to_thread=False)
def metrics() -> Response[bytes]:
    """Every metric of this process in the Prometheus text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
