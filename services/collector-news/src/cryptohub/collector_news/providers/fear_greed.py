"""alternative.me Fear & Greed index (`/fng/?limit=N`; `limit=0` is the whole history).

One value a day, stamped at 00:00 UTC; published as `SentimentIndex` named `fear_greed`,
oldest first. An entry whose value is not an integer in [0, 100] is skipped and counted, so one
bad day never blocks a backfill; a body with no usable entry at all is invalid data.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import msgspec

from cryptohub.collector_news.dates import from_epoch
from cryptohub.collector_news.providers.feeds import USER_AGENT
from cryptohub.common.events import SentimentIndex
from cryptohub.common.providers import (
    InvalidDataError,
    ParseContext,
    ProviderSpec,
    RateLimits,
    Request,
)

__all__ = ["ALTERNATIVE_ME", "INDEX_NAME", "IndexBatch", "fng_request", "parse_fng"]

INDEX_NAME: Final = "fear_greed"

ALTERNATIVE_ME: Final = ProviderSpec(
    name="alternative_me",
    category="sentiment",
    base_url="https://api.alternative.me",
    # Documented limit: 60 requests a minute over a 10-minute window.
    limits=RateLimits(per_minute=60),
    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    conditional_get=True,
)


class _Entry(msgspec.Struct):
    value: str | int
    value_classification: str
    timestamp: str | int


class _Metadata(msgspec.Struct):
    error: str | None = None


class _Answer(msgspec.Struct):
    data: list[_Entry]
    metadata: _Metadata = msgspec.field(default_factory=_Metadata)


_decode: Final = msgspec.json.Decoder(_Answer).decode


@dataclass(slots=True)
class IndexBatch:
    """Index values, oldest first, and the entries skipped, by reason."""

    values: list[SentimentIndex] = field(default_factory=list)
    anomalies: Counter[str] = field(default_factory=Counter)


def fng_request(limit: int) -> Request:
    """`limit=1`: the current value; `limit=0`: every day since February 2018."""
    return Request(
        endpoint="fng" if limit == 1 else "fng_history",
        path="/fng/",
        params={"limit": limit, "format": "json"},
        conditional=True,
    )


def _value(entry: _Entry, ctx: ParseContext) -> SentimentIndex | None:
    try:
        value = int(entry.value)
    except ValueError:
        return None
    observed_at = from_epoch(entry.timestamp)
    classification = entry.value_classification.strip()
    if observed_at is None or not 0 <= value <= 100 or not classification:
        return None
    return SentimentIndex(
        source=ctx.provider,
        observed_at=observed_at,
        received_at=ctx.received_at,
        name=INDEX_NAME,
        value=value,
        classification=classification,
    )


def parse_fng(body: bytes, ctx: ParseContext) -> IndexBatch:
    answer = _decode(body)
    if answer.metadata.error:
        raise InvalidDataError(f"alternative.me reported an error: {answer.metadata.error}")
    batch = IndexBatch()
    for entry in answer.data:
        index = _value(entry, ctx)
        if index is None:
            batch.anomalies["bad_value"] += 1
        elif index.observed_at > ctx.received_at:
            batch.anomalies["future_date"] += 1
        else:
            batch.values.append(index)
    if not batch.values:
        raise InvalidDataError(f"no usable Fear & Greed value in {len(answer.data)} entries")
    batch.values.sort(key=lambda index: index.observed_at)
    return batch
