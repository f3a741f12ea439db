"""The one error tree of the provider client: every failure is a ProviderError with a kind."""

from cryptohub.common.events import ErrorKind

# Kinds that say the provider is unavailable; they count towards the circuit breaker. A 4xx, a
# bad body or a 429 come from a provider that is up, so they do not.
AVAILABILITY_KINDS: frozenset[ErrorKind] = frozenset({"timeout", "connect", "http_5xx"})
# Kinds worth another try inside the same call.
RETRYABLE_KINDS: frozenset[ErrorKind] = frozenset(
    {"timeout", "connect", "http_5xx", "rate_limited"}
)


class ProviderError(Exception):
    """A provider call failed. The message is already masked: it never holds a key."""

    def __init__(
        self,
        provider: str,
        endpoint: str,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        called: bool = True,
    ) -> None:
        super().__init__(f"{provider}/{endpoint}: {kind}: {message}")
        self.provider = provider
        self.endpoint = endpoint
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        # False when refused locally (breaker open, paused, quota): no HTTP was sent.
        self.called = called


class ParseError(ValueError):
    """Raised by a parse function: the body is not the shape the provider documents."""


class InvalidDataError(ValueError):
    """Raised by a parse function: the body parsed but holds values we must not publish."""


class RateLimitedError(ValueError):
    """Raised by a parse function: a 2xx body that is the provider's "rate limited" answer.

    Some providers (Kraken, CryptoCompare) refuse over-quota calls with HTTP 200 and an error
    body. The client treats it as a 429: kind `rate_limited`, the provider paused for
    `retry_after_s` (capped like a Retry-After header) or, when the body gives no time, for the
    declared backoff.
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PoolExhaustedError(Exception):
    """Every member of a provider pool failed or was skipped within one call."""

    def __init__(self, capability: str, failures: list[ProviderError]) -> None:
        summary = "; ".join(f"{f.provider}: {f.kind}" for f in failures) or "no members"
        super().__init__(f"no provider could serve {capability!r} ({summary})")
        self.capability = capability
        self.failures = failures
