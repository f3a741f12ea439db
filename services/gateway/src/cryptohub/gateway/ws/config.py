"""WebSocket limits and timings, one nested block (`GatewaySettings.ws`) of the gateway settings."""

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WsConfig"]


class WsConfig(BaseModel):
    """How `/ws` and `/ws/master` treat their clients; every field has a production default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue_size: int = Field(
        default=256, ge=1, description="Frames queued per client before backpressure applies."
    )
    slow_client_grace_s: float = Field(
        default=10.0,
        gt=0,
        description="How long a client may stay saturated (queue full) before it is closed.",
    )
    max_message_bytes: int = Field(
        default=64 * 1024, ge=256, description="Largest client frame accepted."
    )
    max_subscriptions: int = Field(
        default=100, ge=1, description="Channel patterns one client may hold."
    )
    max_connections_per_ip: int = Field(
        default=50, ge=1, description="Open WebSocket connections from one client address."
    )
    allowed_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins allowed to connect (exact, e.g. https://app.example); empty = all.",
    )
    heartbeat_interval_s: float = Field(
        default=20.0, gt=0, description="Protocol ping sent to each client this often."
    )
    heartbeat_timeout_s: float = Field(
        default=20.0, gt=0, description="A client that has not answered a ping by then is closed."
    )
    resume_max_messages: int = Field(
        default=5000, ge=0, description="Most missed messages replayed to one resuming client."
    )
    resume_max_age_s: float = Field(
        default=3600.0, ge=0, description="Oldest missed message replayed on resume."
    )
    resume_timeout_s: float = Field(
        default=5.0, gt=0, description="Longest a resume may spend reading JetStream history."
    )
    master_intervals_s: dict[str, float] = Field(
        default_factory=lambda: {
            "market_data": 5.0,
            "explorers": 10.0,
            "whale_tracking": 15.0,
            "sentiment": 30.0,
            "health_checker": 30.0,
            "news": 60.0,
        },
        description="Least time between two /ws/master updates of a service (the old hub's).",
    )
    master_news_items: int = Field(
        default=10, ge=1, description="Articles in one /ws/master news update (old hub: 10)."
    )
