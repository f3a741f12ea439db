"""The gateway's own Prometheus metrics (stable names, documented in the README)."""

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "dead_letters",
    "feed_messages",
    "feed_skipped",
    "persist_batch_seconds",
    "persist_failures",
    "persist_lag_seconds",
    "persisted",
    "rate_limited",
]

feed_messages = Counter(
    "cryptohub_gateway_feed_messages_total",
    "Events the live feed decoded and handed to listeners, by stream.",
    ["stream"],
)
feed_skipped = Counter(
    "cryptohub_gateway_feed_skipped_total",
    "Live-feed messages skipped: `undecodable`, or `replayed` (at or below a sequence seen).",
    ["stream", "reason"],
)
persisted = Counter(
    "cryptohub_gateway_persisted_total",
    "Events committed to PostgreSQL (`inserted`) or found already there (`duplicate`).",
    ["table", "outcome"],
)
dead_letters = Counter(
    "cryptohub_gateway_dead_letters_total",
    "Messages the persister could not decode or validate, moved to the dead-letter subject.",
    ["stream"],
)
persist_failures = Counter(
    "cryptohub_gateway_persist_failures_total",
    "Batches whose commit failed (PostgreSQL unreachable or refusing); retried, never acked.",
    ["stream"],
)
persist_batch_seconds = Histogram(
    "cryptohub_gateway_persist_batch_seconds",
    "Time to write and commit one batch.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
persist_lag_seconds = Gauge(
    "cryptohub_gateway_persist_lag_seconds",
    "Age (since JetStream stored it) of the newest event of the last committed batch.",
    ["stream"],
)
rate_limited = Counter(
    "cryptohub_gateway_rate_limited_total",
    "HTTP requests refused with 429 by the per-client rate limit.",
)
