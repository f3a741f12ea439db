"""Typed service settings from CRYPTOHUB_* environment variables, read once in main()."""

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cryptohub.common.telemetry.tracing import Exporter


class ServiceSettings(BaseSettings):
    """What every service reads. Subclasses add their own fields and keep the CRYPTOHUB_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CRYPTOHUB_", extra="ignore", frozen=True)

    service: str = "cryptohub"
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        validation_alias=AliasChoices("CRYPTOHUB_NATS_URL", "NATS_URL", "nats_url"),
    )
    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CRYPTOHUB_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    log_level: str = "info"
    log_json: bool = True
    metrics_port: int = Field(default=0, ge=0, le=65535)
    otel_exporter: Exporter = "none"
    otel_endpoint: str | None = None
    publish_timeout_s: float = Field(default=5.0, gt=0)
    replay: bool = False
