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
    # HTTP statuses that mean "slow down" for this provider (Binance adds 418: an IP banned for
    # ignoring 429s, sent with Retry-After). Each is handled like a 429.
    rate_limit_statuses: frozenset[int] = frozenset({429})

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


REPLAY_ENV = "CRYPTOHUB_REPLAY"
REPLAY_URL_ENV = "CRYPTOHUB_REPLAY_URL"
# What pydantic reads as a bool (ServiceSettings.replay reads the same variable).
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})


class ReplayConfigError(ValueError):
    """Replay mode without a replay server to send providers to: refused, never sent online."""


def replay_mode(environ: Mapping[str, str]) -> bool:
    """Whether `CRYPTOHUB_REPLAY` asks for replay mode; a value that is no bool is refused."""
    raw = environ.get(REPLAY_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ReplayConfigError(f"{REPLAY_ENV}={raw!r} is not a boolean (1/0, true/false, yes/no)")


def resolve(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> ResolvedProvider:
    """Apply `CRYPTOHUB_<PROVIDER>_BASE_URL` and the key's env var; the key is masked.

    In replay mode a provider without its own base URL goes to `{CRYPTOHUB_REPLAY_URL}/{name}`
    (a 404 there when nothing was recorded for it), never to its real host.
    """
    env = os.environ if environ is None else environ
    base_url = env.get(spec.base_url_env_var) or _default_base_url(spec, env)
    api_key: SecretStr | None = None
    if spec.key is not None:
        raw = env.get(spec.key.env_var, "").strip()
        if raw:
            register_secret(raw)
            api_key = SecretStr(raw)
    return ResolvedProvider(spec=spec, base_url=base_url.rstrip("/"), api_key=api_key)


def _default_base_url(spec: ProviderSpec, env: Mapping[str, str]) -> str:
    if not replay_mode(env):
        return spec.base_url
    replay_url = env.get(REPLAY_URL_ENV, "").strip().rstrip("/")
    if not replay_url:
        raise ReplayConfigError(
            f"{REPLAY_ENV} is set but {REPLAY_URL_ENV} is not: provider {spec.name!r} has no "
            f"{spec.base_url_env_var} and replay mode never goes to {spec.base_url}; set "
            f"{REPLAY_URL_ENV} to the replay server (cryptohub up --replay sets both)"
        )
    return f"{replay_url}/{spec.name}"
