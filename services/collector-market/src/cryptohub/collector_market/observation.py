"""Observation times of facts a provider did not timestamp: the poll slot, not the receive time.

Parsers set `observed_at = received_at` when the provider gives no time of its own. Such an
event is stamped with the scheduled time of the slot that polled it (the request went out then),
which every replica computes alike: two replicas polling the same slot publish the same fact id,
and JetStream keeps one.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

import msgspec

from cryptohub.common.events import BaseEvent

E = TypeVar("E", bound=BaseEvent)


def unstamped(event: BaseEvent) -> bool:
    """Whether the provider gave no time for this fact (the parser used the receive time)."""
    return event.observed_at == event.received_at


def stamp_with_slot(events: Iterable[E], slot: datetime) -> list[E]:
    """`events`, those without a provider time observed at `slot` (never later than received)."""
    return [
        msgspec.structs.replace(event, observed_at=slot)
        if unstamped(event) and slot <= event.received_at
        else event
        for event in events
    ]
