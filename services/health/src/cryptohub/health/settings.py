"""Health's settings: CRYPTOHUB_HEALTH_* variables, read once in main() and passed down."""

import re
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from cryptohub.common.events import SLUG_PATTERN
from cryptohub.common.settings import ServiceSettings
from cryptohub.health.machine import Thresholds
from cryptohub.health.monitor import MonitorConfig
from cryptohub.health.rules import AlertPolicy

__all__ = ["Settings"]

_SLUG = re.compile(SLUG_PATTERN)
_Rate = Annotated[float, Field(ge=0, le=1)]
_Seconds = Annotated[float, Field(gt=0)]


class Settings(ServiceSettings):
    """Everything health reads from the environment (prefix CRYPTOHUB_, as every service)."""

    service: str = "health"

    # --- windows and the state machine
    health_window_calls: int = Field(default=50, ge=1, description="Count window: last N calls.")
    health_window_s: _Seconds = Field(
        default=300.0,
        description="Time window: calls older than this are forgotten; also the lookback read "
        "back from the attempt stream at start.",
    )
    health_min_calls: int = Field(
        default=5, ge=1, description="Calls in the window before any rate threshold applies."
    )
    health_degraded_error_rate: _Rate = 0.2
    health_offline_error_rate: _Rate = 0.5
    health_degraded_consecutive_failures: int = Field(default=3, ge=1)
    health_offline_consecutive_failures: int = Field(default=5, ge=1)
    health_slow_call_ms: _Seconds = Field(
        default=2000.0, description="A call slower than this (ms) is slow."
    )
    health_slow_call_ms_by_provider: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict,
        description="Per-provider slow threshold (ms): `binance=500,coingecko=1500` or JSON.",
    )
    health_degraded_slow_rate: _Rate = 0.5
    health_degraded_invalid_rate: _Rate = 0.2
    health_cooldown_s: _Seconds = Field(
        default=30.0, description="How long an offline provider rests before half-open."
    )
    health_half_open_successes: int = Field(
        default=2, ge=1, description="Successful probes that bring a half-open provider back."
    )
    health_rate_limit_near_ratio: _Rate = Field(
        default=0.8, description="Share of the quota used that counts as near exhaustion."
    )
    health_rate_limit_hold_s: _Seconds = Field(
        default=60.0,
        description="How long a quota reading or a 429 holds when the provider gives no reset.",
    )

    # --- alerts
    health_degraded_alert_after_s: _Seconds = 600.0
    health_stale_after_s: _Seconds = Field(
        default=300.0, description="No call at all for this long: the provider is stale."
    )
    health_forget_after_s: _Seconds = Field(
        default=3600.0,
        description="A provider not configured and not called for this long is no longer "
        "expected to be polled.",
    )
    health_expected_providers: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Providers that must be polled (stale rule) even if never seen: "
        "`coingecko,binance`.",
    )
    health_categories: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Provider -> category (category alerts): `coingecko=market,etherscan=chain`.",
    )
    health_category_majority: _Rate = Field(
        default=0.5,
        description="More than this share of a category offline raises one category alert.",
    )
    health_category_min_providers: int = Field(default=2, ge=1)
    health_alert_group_wait_s: float = Field(
        default=10.0,
        ge=0,
        description="An offline provider waits this long before its own alert, so that a "
        "category failing together raises one category alert instead.",
    )
    health_invalid_alert_rate: _Rate = Field(
        default=0.1, description="Share of calls rejected as invalid data that raises an alert."
    )

    # --- runtime
    health_providers: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Watch only these providers' attempts (empty: all), e.g. to split providers "
        "between health instances, each with its own consumer and memory bucket.",
    )
    health_tick_s: _Seconds = Field(default=1.0, description="Timer for cooldowns and rules.")
    health_batch: int = Field(default=500, ge=1, description="Attempts fetched per pull.")
    health_state_refresh_s: float = Field(
        default=5.0, ge=0, description="Rewrite a provider's KV figures at most this often."
    )
    health_consumer: str = Field(default="health", description="Durable consumer name.")
    health_state_bucket: str = Field(
        default="provider_state",
        description="KV bucket of provider states; collectors read `provider_state` (tests only "
        "change this).",
    )
    health_memory_bucket: str = Field(
        default="health", description="Health's own KV bucket: open alerts, window epochs."
    )

    # --- notifications
    health_webhook_url: SecretStr | None = Field(
        default=None, description="Generic JSON webhook: each alert event POSTed as JSON."
    )
    health_slack_webhook_url: SecretStr | None = Field(
        default=None, description="Slack-compatible incoming webhook."
    )
    health_notify_queue: int = Field(
        default=1000, ge=1, description="Pending per sink; beyond, dropped."
    )
    health_notify_max_attempts: int = Field(default=6, ge=1)
    health_notify_backoff_s: _Seconds = 0.5
    health_notify_max_backoff_s: _Seconds = 30.0
    health_notify_timeout_s: _Seconds = 5.0
    health_notify_flush_s: float = Field(
        default=5.0, ge=0, description="How long shutdown waits for queued notifications."
    )

    @field_validator("health_expected_providers", "health_providers", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return msgspec.json.decode(text)
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @field_validator("health_categories", "health_slow_call_ms_by_provider", mode="before")
    @classmethod
    def _split_pairs(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("{"):
            return msgspec.json.decode(text)
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, item = part.partition("=")
            if not sep or not key.strip() or not item.strip():
                raise ValueError(f"expected provider=value pairs separated by commas, got {part!r}")
            pairs[key.strip()] = item.strip()
        return pairs

    @field_validator(
        "health_categories", "health_expected_providers", "health_providers", mode="after"
    )
    @classmethod
    def _slugs(cls, value: Any) -> Any:
        names = [*value.keys(), *value.values()] if isinstance(value, dict) else list(value)
        for name in names:
            if _SLUG.fullmatch(name) is None:
                raise ValueError(f"{name!r} is not a lower-case provider or category name")
        return value

    def monitor_config(self) -> MonitorConfig:
        return MonitorConfig(
            thresholds=self.thresholds(),
            policy=self.alert_policy(),
            window_calls=self.health_window_calls,
            window_span=timedelta(seconds=self.health_window_s),
            slow_ms=self.health_slow_call_ms,
            slow_ms_by_provider=dict(self.health_slow_call_ms_by_provider),
            near_ratio=self.health_rate_limit_near_ratio,
            quota_hold=timedelta(seconds=self.health_rate_limit_hold_s),
            categories=dict(self.health_categories),
            expected=self.health_expected_providers,
            forget_after=timedelta(seconds=self.health_forget_after_s),
        )

    def thresholds(self) -> Thresholds:
        return Thresholds(
            min_calls=self.health_min_calls,
            degraded_error_rate=self.health_degraded_error_rate,
            offline_error_rate=self.health_offline_error_rate,
            degraded_consecutive_failures=self.health_degraded_consecutive_failures,
            offline_consecutive_failures=self.health_offline_consecutive_failures,
            degraded_slow_rate=self.health_degraded_slow_rate,
            degraded_invalid_rate=self.health_degraded_invalid_rate,
            cooldown=timedelta(seconds=self.health_cooldown_s),
            half_open_successes=self.health_half_open_successes,
        )

    def alert_policy(self) -> AlertPolicy:
        return AlertPolicy(
            degraded_for=timedelta(seconds=self.health_degraded_alert_after_s),
            stale_after=timedelta(seconds=self.health_stale_after_s),
            group_wait=timedelta(seconds=self.health_alert_group_wait_s),
            min_calls=self.health_min_calls,
            invalid_rate=self.health_invalid_alert_rate,
            category_majority=self.health_category_majority,
            category_min_providers=self.health_category_min_providers,
        )
