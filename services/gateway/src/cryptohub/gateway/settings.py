"""Gateway settings: CRYPTOHUB_* variables; nested blocks with `__` (CRYPTOHUB_WS__QUEUE_SIZE)."""

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from cryptohub.common.settings import ServiceSettings
from cryptohub.gateway.ws.config import WsConfig

__all__ = ["DEFAULT_RETENTION", "GatewaySettings"]

# Rows older than this are deleted, per table (see the README's table list).
DEFAULT_RETENTION: dict[str, timedelta] = {
    "price_ticks": timedelta(days=30),
    "candles": timedelta(days=365),
    "market_globals": timedelta(days=365),
    "tvl_points": timedelta(days=365),
    "gas_quotes": timedelta(days=30),
    "block_heads": timedelta(days=30),
    "whale_transfers": timedelta(days=365),
    "articles": timedelta(days=365),
    "article_sentiments": timedelta(days=365),
    "asset_sentiments": timedelta(days=365),
    "sentiment_indexes": timedelta(days=365 * 5),
    "provider_attempts": timedelta(days=7),
    "provider_status_changes": timedelta(days=90),
    "alerts": timedelta(days=365),
}


_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class GatewaySettings(ServiceSettings):
    """Everything the gateway reads from the environment, once, in main()."""

    model_config = SettingsConfigDict(
        env_prefix="CRYPTOHUB_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    service: str = "gateway"

    # --- logs (CRYPTOHUB_LOG_JSON, inherited, picks JSON lines or the plain format)
    log_level: str = Field(
        default="info", description="debug, info, warning, error or critical (any case)."
    )
    access_log: bool = Field(
        default=False,
        description="One log line per HTTP request, from the HTTP server, in the service's format.",
    )

    # --- HTTP
    host: str = "0.0.0.0"  # noqa: S104 - a server users reach from outside
    port: int = Field(default=7860, ge=0, le=65535)
    server: Literal["granian", "uvicorn"] = "granian"
    cors_origins: tuple[str, ...] = Field(
        default=("*",), description="Origins allowed by CORS; `*` for any (the old hub's)."
    )
    read_api_keys: tuple[SecretStr, ...] = Field(
        default=(),
        description="SHA-256 hex digests of keys that may read; empty: the read API is open.",
    )
    admin_api_keys: tuple[SecretStr, ...] = Field(
        default=(),
        description="SHA-256 hex digests of admin keys; empty: admin endpoints always refuse.",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Requests per client address per minute; 0 disables."
    )
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests allowed at once.")
    stale_after_s: float = Field(
        default=120.0,
        gt=0,
        description="The old hub's routes answer 503 when their newest data is older than this.",
    )

    # --- persistence
    persist: bool = Field(default=True, description="Run the JetStream → PostgreSQL consumers.")
    persist_durable: str = Field(
        default="gateway-persist", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Consumer name."
    )
    persist_from: Literal["all", "new"] = Field(
        default="all",
        description="Where a new persistence consumer starts: the whole stream, or new events.",
    )
    persist_batch_size: int = Field(default=1000, ge=1, le=10_000)
    persist_batch_wait_s: float = Field(default=0.05, gt=0, le=5)
    persist_ack_wait_s: float = Field(default=30.0, ge=1)
    persist_max_ack_pending: int = Field(default=20_000, ge=1)
    persist_retry_max_s: float = Field(default=5.0, gt=0)
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    db_connect_timeout_s: float = Field(default=5.0, gt=0)
    latest_interval_s: float = Field(
        default=2.0, gt=0, description="How often the newest event per subject is saved."
    )
    retention: dict[str, timedelta] = Field(default_factory=lambda: dict(DEFAULT_RETENTION))
    retention_interval_s: float = Field(default=3600.0, gt=0)
    warm_horizon: timedelta = Field(
        default=timedelta(days=7), description="How far back live state is warmed from."
    )
    warm_catch_up_s: float = Field(
        default=300.0,
        gt=0,
        description="How long live state keeps re-warming from PostgreSQL at start, until the "
        "events stored before the live feed began are persisted.",
    )

    ws: WsConfig = Field(default_factory=WsConfig)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        # Checked here so that a typo is a settings error, not a crash in configure_logging.
        level = value.strip().lower()
        if level not in _LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; known: {', '.join(_LOG_LEVELS)}")
        return level

    @field_validator("retention")
    @classmethod
    def _known_tables(cls, value: dict[str, timedelta]) -> dict[str, timedelta]:
        unknown = sorted(set(value) - set(DEFAULT_RETENTION))
        if unknown:
            raise ValueError(f"unknown tables {unknown}; known: {sorted(DEFAULT_RETENTION)}")
        return {**DEFAULT_RETENTION, **value}
