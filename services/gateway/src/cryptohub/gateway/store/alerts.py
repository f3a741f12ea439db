"""Alerts in their latest state, their acknowledgements, and acknowledging one."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptohub.gateway.db import Database
from cryptohub.gateway.store.access import connection, fetch

__all__ = ["AckRow", "AlertRow", "acknowledge", "alerts"]


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert_id: str
    rule: str
    severity: str
    state: str
    message: str
    provider: str | None
    category: str | None
    source: str
    observed_at: datetime
    acked_at: datetime | None
    acked_by: str | None
    ack_note: str | None


@dataclass(frozen=True, slots=True)
class AckRow:
    alert_id: str
    acked_at: datetime
    acked_by: str
    note: str | None


_ALERTS: Final = """
SELECT l.alert_id, l.rule, l.severity, l.state, l.message, l.provider, l.category, l.source,
    l.observed_at, k.acked_at, k.acked_by, k.note AS ack_note
FROM (
    SELECT DISTINCT ON (alert_id) alert_id, rule, severity, state, message, provider, category,
        source, observed_at
    FROM alerts ORDER BY alert_id, observed_at DESC
) l
LEFT JOIN alert_acks k ON k.alert_id = l.alert_id
WHERE ($1::text IS NULL OR l.state = $1)
    AND ($2::text IS NULL OR l.severity = $2)
    AND ($3::timestamptz IS NULL OR (l.observed_at, l.alert_id) < ($3, $4::text))
ORDER BY l.observed_at DESC, l.alert_id DESC
LIMIT $5
"""

_ACK: Final = """
INSERT INTO alert_acks (alert_id, acked_at, acked_by, note)
SELECT $1, now(), $2, $3 WHERE EXISTS (SELECT 1 FROM alerts WHERE alert_id = $1)
ON CONFLICT (alert_id) DO UPDATE SET acked_at = excluded.acked_at,
    acked_by = excluded.acked_by, note = excluded.note
RETURNING alert_id, acked_at, acked_by, note
"""


async def alerts(
    db: Database | None,
    *,
    state: str | None,
    severity: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[AlertRow]:
    at, alert_id = after if after else (None, None)
    records = await fetch(db, _ALERTS, state, severity, at, alert_id, limit)
    return [AlertRow(**dict(r)) for r in records]


async def acknowledge(
    db: Database | None, alert_id: str, *, by: str, note: str | None
) -> AckRow | None:
    """Record an acknowledgement; None when no such alert was ever seen."""
    async with connection(db) as conn:
        record = await conn.fetchrow(_ACK, alert_id, by, note)
    return None if record is None else AckRow(**dict(record))
