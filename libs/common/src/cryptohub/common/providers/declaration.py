"""A provider, declared: where it lives, how its key is passed, how hard we may call it."""

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import SecretStr

from cryptohub.common.secrets import register_secret


class KeyPlacement(enum.StrEnum):
    HEADER = "header"
    QUERY = "query"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """How a provider takes its key. `required=False`: the provider also works without one."""

    env_var: str
    placement: KeyPlacement
    name: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The provider's published limits; None means no limit of that kind."""

    per_second: float | None = None
    per_minute: float | None = None
    monthly_credits: int | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 10.0
    total: float = 15.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries inside one call: capped, jittered exponential backoff that honours Retry-After."""

    max_attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0
    # A Retry-After longer than this is not waited out inside the call: the provider is paused
    # and the pool moves on to its next member.
    max_wait_in_call: float = 1.0
    # Retry-After values beyond this are treated as this (a provider asking for a day is capped).
    max_retry_after: float = 600.0


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    cooldown: float = 30.0
    probe_timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything the resilient client needs to know about one provider."""

    name: str
    category: str
    base_url: str
    key: ApiKey | None = None
    limits: RateLimits = field(default_factory=RateLimits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    max_body_bytes: int = 8 * 1024 * 1024
    headers: Mapping[str, str] = field(default_factory=dict)
    # Whether the provider answers conditional GETs (ETag / Last-Modified) usefully.
    conditional_get: bool = False

    @property
    def base_url_env_var(self) -> str:
        return f"CRYPTOHUB_{self.name.upper()}_BASE_URL"


@dataclass(frozen=True, slots=True)
class ResolvedProvider:
    """A spec with its environment applied: the base URL in force and the key, if any."""

    spec: ProviderSpec
    base_url: str
    api_key: SecretStr | None

    @property
    def enabled(self) -> bool:
        return self.spec.key is None or not self.spec.key.required or self.api_key is not None

    @property
    def disabled_reason(self) -> str | None:
        if self.enabled or self.spec.key is None:
            return None
        return f"{self.spec.name} is disabled: {self.spec.key.env_var} is not set"


def resolve(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> ResolvedProvider:
    """Apply `CRYPTOHUB_<PROVIDER>_BASE_URL` and the key's env var; the key is masked."""
    env = os.environ if environ is None else environ
    base_url = env.get(spec.base_url_env_var) or spec.base_url
    api_key: SecretStr | None = None
    if spec.key is not None:
        raw = env.get(spec.key.env_var, "").strip()
        if raw:
            register_secret(raw)
            api_key = SecretStr(raw)
    return ResolvedProvider(spec=spec, base_url=base_url.rstrip("/"), api_key=api_key)
