"""API keys (stored only as SHA-256 digests) and a per-client token-bucket rate limit."""

import hashlib
import hmac
import math
import time
from collections.abc import Iterable
from typing import Any, Final

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from pydantic import SecretStr

from cryptohub.gateway import metrics
from cryptohub.gateway.api.problems import Problem, ProblemError
from cryptohub.gateway.settings import GatewaySettings

__all__ = [
    "KeyRing",
    "RateLimitMiddleware",
    "TokenBuckets",
    "presented_key",
    "require_admin_key",
    "require_read_key",
]

_EXEMPT: Final = ("^/healthz$", "^/readyz$", "^/metrics$")
_MAX_CLIENTS: Final = 100_000


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """A set of accepted keys, known only by their SHA-256 hex digests."""

    def __init__(self, digests: Iterable[SecretStr]) -> None:
        self._digests = tuple(d.get_secret_value().strip().lower() for d in digests)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def accepts(self, key: str | None) -> bool:
        if not key:
            return False
        presented = _digest(key)
        # compare_digest against every entry: no early exit that would time the match.
        return any([hmac.compare_digest(presented, d) for d in self._digests])  # noqa: C419


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The key in `X-API-Key`, or in `Authorization: Bearer <key>`."""
    key = connection.headers.get("x-api-key")
    if key:
        return key
    auth = connection.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _rings(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[KeyRing, KeyRing]:
    rings: tuple[KeyRing, KeyRing] = connection.app.state["key_rings"]
    return rings


async def require_read_key(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Guard of the read API: open unless read keys are configured (admin keys also read)."""
    read, admin = _rings(connection)
    if not read:
        return
    key = presented_key(connection)
    if read.accepts(key) or admin.accepts(key):
        return
    raise ProblemError(
        401, "an API key is required (header X-API-Key)", headers={"WWW-Authenticate": "ApiKey"}
    )


async def require_admin_key(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Guard of admin routes: always needs an admin key; refused when none is configured."""
    _, admin = _rings(connection)
    key = presented_key(connection)
    if key is None:
        raise ProblemError(
            401,
            "an admin API key is required (header X-API-Key)",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    if not admin.accepts(key):
        raise ProblemError(403, "this API key may not use admin endpoints")


class TokenBuckets:
    """One token bucket per client: `per_minute` sustained, `burst` at once."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str, at: float | None = None) -> tuple[bool, float, float]:
        """(allowed, tokens left, seconds until the next token)."""
        moment = time.monotonic() if at is None else at
        tokens, last = self._buckets.get(client, (self._burst, moment))
        tokens = min(self._burst, tokens + (moment - last) * self._rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if len(self._buckets) >= _MAX_CLIENTS and client not in self._buckets:
            self._prune(moment)
        self._buckets[client] = (tokens, moment)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate
        return allowed, tokens, wait

    def _prune(self, moment: float) -> None:
        full_after = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if moment - v[1] < full_after}
        if len(self._buckets) >= _MAX_CLIENTS:  # all active: forget the oldest half
            ordered = sorted(self._buckets.items(), key=lambda kv: kv[1][1])
            self._buckets = dict(ordered[len(ordered) // 2 :])


_TOO_MANY: Final = "Too many requests. Please try again in {} seconds."


class RateLimitMiddleware(ASGIMiddleware):
    """Per-client (API key, else address) rate limit on HTTP routes, with the old hub's headers
    (`X-RateLimit-Limit/-Remaining/-Reset`) and `Retry-After` on a 429."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = _EXEMPT

    def __init__(self, settings: GatewaySettings) -> None:
        self._buckets = (
            TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
            if settings.rate_limit_per_minute > 0
            else None
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        buckets = self._buckets
        if buckets is None:
            await next_app(scope, receive, send)
            return
        allowed, left, wait = buckets.take(_client_of(scope))
        limit_headers = {
            "X-RateLimit-Limit": str(buckets.per_minute),
            "X-RateLimit-Remaining": str(max(0, math.floor(left))),
            "X-RateLimit-Reset": str(math.ceil(wait)),
        }
        if not allowed:
            metrics.rate_limited.inc()
            await _send_429(send, limit_headers, max(1, math.ceil(wait)))
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in limit_headers.items():
                    headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)


def _client_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-api-key":
            return "key:" + _digest(value.decode("latin-1"))[:16]
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


async def _send_429(send: Send, headers: dict[str, str], retry_after: int) -> None:
    body = msgspec.json.encode(
        Problem(
            title="Too Many Requests",
            status=429,
            detail=_TOO_MANY.format(retry_after),
            retry_after_s=retry_after,
        )
    )
    raw_headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after).encode()),
        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
