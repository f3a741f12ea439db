"""`/api/v1/alerts`: alerts in their latest state; acknowledging one (admin)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Operation, RequestBody
from litestar.params import JSONBody, PathParameter, QueryParameter

from cryptohub.gateway.api.cursor import decode_cursor, encode_cursor
from cryptohub.gateway.api.params import Cursor, Limit
from cryptohub.gateway.api.problems import ProblemError, problem_responses
from cryptohub.gateway.api.security import presented_key, require_admin_key
from cryptohub.gateway.runtime import Runtime
from cryptohub.gateway.store.alerts import acknowledge, alerts

__all__ = ["ack_alert", "list_alerts"]


class AckOut(msgspec.Struct, frozen=True, kw_only=True):
    acked_at: datetime
    acked_by: str
    note: str | None


class AlertOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    rule: str
    severity: str
    state: str
    message: str
    provider: str | None
    category: str | None
    source: str
    observed_at: datetime
    ack: AckOut | None


class AlertList(msgspec.Struct, frozen=True, kw_only=True):
    """Alerts in their latest state, most recently changed first."""

    data: list[AlertOut]
    count: int
    next_cursor: str | None


StateQuery = Annotated[
    Literal["open", "resolved"] | None, QueryParameter(name="state", required=False)
]
SeverityQuery = Annotated[
    Literal["info", "warning", "critical"] | None, QueryParameter(required=False)
]
AlertId = Annotated[
    str, PathParameter(pattern=r"^[\x21-\x7e]{1,200}$", description="The alert's id.")
]


@get("/alerts", summary="Alerts", responses=problem_responses(503))
async def list_alerts(
    runtime: NamedDependency[Runtime],
    state_: StateQuery = None,
    severity: SeverityQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AlertList:
    """Every alert health raised, in its latest state, with its acknowledgement if any."""
    after = decode_cursor("alerts", cursor, (datetime, str)) if cursor else None
    rows = await alerts(
        runtime.db,
        state=state_,
        severity=severity,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    page = rows[:limit]
    return AlertList(
        data=[
            AlertOut(
                id=r.alert_id,
                rule=r.rule,
                severity=r.severity,
                state=r.state,
                message=r.message,
                provider=r.provider,
                category=r.category,
                source=r.source,
                observed_at=r.observed_at,
                ack=(
                    AckOut(acked_at=r.acked_at, acked_by=r.acked_by, note=r.ack_note)
                    if r.acked_at is not None and r.acked_by is not None
                    else None
                ),
            )
            for r in page
        ],
        count=len(page),
        next_cursor=(
            encode_cursor("alerts", page[-1].observed_at, page[-1].alert_id)
            if len(rows) > limit
            else None
        ),
    )


@dataclass
class _OptionalBody(Operation):
    """The route's OpenAPI operation with its request body marked optional (Litestar marks every
    body required; this one may be left out)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


class AckIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class AckResult(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    ack: AckOut


@post(
    "/alerts/{alert_id:str}/ack",
    summary="Acknowledge an alert (admin)",
    guards=[require_admin_key],
    responses=problem_responses(401, 403, 404, 503),
    status_code=200,
    operation_class=_OptionalBody,
)
async def ack_alert(
    runtime: NamedDependency[Runtime],
    request: Request[Any, Any, Any],
    alert_id: AlertId,
    data: JSONBody[AckIn | None] = None,
) -> AckResult:
    """Mark an alert as seen by an operator. Needs an admin API key (`X-API-Key`)."""
    key = presented_key(request) or ""
    by = "key:" + hashlib.sha256(key.encode()).hexdigest()[:12]
    note = data.note if data else None
    if note is not None and "\x00" in note:
        raise ProblemError(400, "note must not contain NUL characters")
    row = await acknowledge(runtime.db, alert_id, by=by, note=note)
    if row is None:
        raise ProblemError(404, f"no alert {alert_id!r} has been seen")
    return AckResult(
        id=row.alert_id, ack=AckOut(acked_at=row.acked_at, acked_by=row.acked_by, note=row.note)
    )
