"""Prometheus metrics with stable names, shared by every service, and the /metrics endpoint."""

import logging

from prometheus_client import Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

provider_requests = Counter(
    "cryptohub_provider_requests_total",
    "Provider calls by outcome: ok, not_modified, an error kind, or throttled / circuit_open "
    "when refused locally without a call.",
    ["provider", "outcome"],
)
provider_latency = Histogram(
    "cryptohub_provider_latency_seconds",
    "Latency of each HTTP try to a provider, body read included.",
    ["provider"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
events_published = Counter(
    "cryptohub_events_published_total",
    "Events acknowledged by JetStream, by subject.",
    ["subject"],
)
events_duplicate = Counter(
    "cryptohub_events_duplicate_total",
    "Publishes JetStream recognised as duplicates (same Nats-Msg-Id in the window).",
    ["subject"],
)
publish_retries = Counter(
    "cryptohub_publish_retries_total",
    "JetStream publishes retried with the same Nats-Msg-Id after a timeout or disconnect.",
)
attempts_dropped = Counter(
    "cryptohub_provider_attempts_dropped_total",
    "ProviderAttempt events dropped because the publish queue was full (NATS unreachable).",
)


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from outside the pod
    """Expose /metrics on `port` (0 disables it)."""
    if port <= 0:
        return
    start_http_server(port, addr=host)
    log.info("metrics on http://%s:%d/metrics", host, port)
