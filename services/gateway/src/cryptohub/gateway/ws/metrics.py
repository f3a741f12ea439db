"""Prometheus metrics of the WebSocket side (names documented in docs/websocket.md)."""

from prometheus_client import Counter, Gauge

__all__ = ["closed", "conflated", "connections", "dropped", "frames_sent", "resumes"]

connections = Gauge(
    "cryptohub_gateway_ws_connections",
    "Open WebSocket connections, by endpoint (`ws` or `master`).",
    ["endpoint"],
)
frames_sent = Counter(
    "cryptohub_gateway_ws_frames_sent_total", "Frames written to WebSocket clients.", ["endpoint"]
)
dropped = Counter(
    "cryptohub_gateway_ws_dropped_total",
    "Frames dropped for slow clients (oldest first; the client is told how many).",
    ["endpoint"],
)
conflated = Counter(
    "cryptohub_gateway_ws_conflated_total",
    "Queued price (or old-hub snapshot) frames replaced by a newer one for a slow client.",
    ["endpoint"],
)
closed = Counter(
    "cryptohub_gateway_ws_closed_total",
    "Connections the gateway closed or refused, by reason.",
    ["reason"],
)
resumes = Counter(
    "cryptohub_gateway_ws_resumes_total",
    "Per-stream resumes: `complete`, or the reason of the gap.",
    ["outcome"],
)
