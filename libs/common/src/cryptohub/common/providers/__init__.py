"""The resilient provider client: declarations, rate limits, retries, breaker, pools, attempts."""

from cryptohub.common.providers.client import ParseContext, ParseFn, ProviderClient, Request
from cryptohub.common.providers.declaration import (
    ApiKey,
    BreakerPolicy,
    KeyPlacement,
    ProviderSpec,
    RateLimits,
    ResolvedProvider,
    RetryPolicy,
    Timeouts,
    resolve,
)
from cryptohub.common.providers.errors import (
    InvalidDataError,
    ParseError,
    PoolExhaustedError,
    ProviderError,
    RateLimitedError,
)
from cryptohub.common.providers.pool import PoolMember, PoolResult, ProviderPool, Strategy
from cryptohub.common.providers.states import KvProviderStates, ProviderStates, StaticProviderStates

__all__ = [
    "ApiKey",
    "BreakerPolicy",
    "InvalidDataError",
    "KeyPlacement",
    "KvProviderStates",
    "ParseContext",
    "ParseError",
    "ParseFn",
    "PoolExhaustedError",
    "PoolMember",
    "PoolResult",
    "ProviderClient",
    "ProviderError",
    "ProviderPool",
    "ProviderSpec",
    "ProviderStates",
    "RateLimitedError",
    "RateLimits",
    "Request",
    "ResolvedProvider",
    "RetryPolicy",
    "StaticProviderStates",
    "Strategy",
    "Timeouts",
    "resolve",
]
