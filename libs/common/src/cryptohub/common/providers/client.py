"""The resilient provider client: every provider HTTP call goes through here."""

import asyncio
import dataclasses
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import msgspec

from cryptohub.common.events import ErrorKind, ProviderAttempt, RateLimitSeen
from cryptohub.common.providers.backoff import backoff_delay, parse_retry_after
from cryptohub.common.providers.breaker import CircuitBreaker
from cryptohub.common.providers.declaration import KeyPlacement, ResolvedProvider
from cryptohub.common.providers.errors import (
    AVAILABILITY_KINDS,
    RETRYABLE_KINDS,
    InvalidDataError,
    ParseError,
    ProviderError,
    RateLimitedError,
)
from cryptohub.common.providers.ratelimit import RateLimiter, RateLimitWaitError
from cryptohub.common.secrets import install_log_masking, mask
from cryptohub.common.telemetry import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
AttemptSink = Callable[[ProviderAttempt], None]
_CONDITIONAL_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class Request:
    """One call to a provider endpoint. `endpoint` names it in metrics and attempt events."""

    endpoint: str
    path: str
    params: Mapping[str, str | int | float] = field(default_factory=dict)
    method: str = "GET"
    json_body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cost: int = 1
    conditional: bool = False


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parse function may know besides the body."""

    provider: str
    endpoint: str
    received_at: datetime


ParseFn = Callable[[bytes, ParseContext], T]


class _TryFailed(Exception):  # noqa: N818 - internal signal, never escapes
    """Internal: one HTTP try failed; carries what the attempt event and the retry need."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(slots=True)
class _Answer:
    status: int
    body: bytes
    headers: httpx.Headers


class ProviderClient:
    """Calls one provider: rate limits, timeouts, retries, circuit breaker, attempts, masking.

    One instance per provider, sharing one `httpx.AsyncClient`. Every HTTP try produces one
    `ProviderAttempt`; a call refused locally (breaker open, paused, quota) sends nothing and
    produces no attempt.
    """

    def __init__(
        self,
        provider: ResolvedProvider,
        http: httpx.AsyncClient,
        *,
        attempts: AttemptSink | None = None,
        source: str = "cryptohub",
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        install_log_masking()
        self.provider = provider
        self.spec = provider.spec
        self.name = provider.spec.name
        self._http = http
        self._attempts = attempts
        self._source = source
        self._clock = clock
        self._rng = rng or random.Random()
        self.limiter = RateLimiter(provider.spec.limits, clock=clock)
        self.breaker = CircuitBreaker(provider.spec.breaker)
        self._validators: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
        self.calls = 0
        t = provider.spec.timeouts
        self._timeout = httpx.Timeout(connect=t.connect, read=t.read, write=t.read, pool=t.connect)

    @property
    def enabled(self) -> bool:
        return self.provider.enabled

    def now(self) -> float:
        """The client's monotonic clock (injectable in tests)."""
        return self._clock()

    async def fetch(self, request: Request, parse: ParseFn[T]) -> T:
        """Call and parse; raises ProviderError (nothing else) on any failure."""
        value = await self._call(request, parse)
        if value is _NOT_MODIFIED:
            raise ProviderError(self.name, request.endpoint, "parse", "304 to an unconditional GET")
        return value  # type: ignore[return-value]

    async def fetch_if_modified(self, request: Request, parse: ParseFn[T]) -> T | None:
        """Conditional GET (ETag / Last-Modified): None when the resource did not change."""
        value = await self._call(dataclasses.replace(request, conditional=True), parse)
        return None if value is _NOT_MODIFIED else value  # type: ignore[return-value]

    async def _call(self, request: Request, parse: ParseFn[T]) -> object:
        if not self.enabled:
            reason = self.provider.disabled_reason or "disabled"
            raise ProviderError(self.name, request.endpoint, "http_4xx", reason, called=False)
        attempt = 0
        while True:
            attempt += 1
            self._refuse_if_open(request)
            try:
                return await self._try_once(request, parse, attempt)
            except _TryFailed as failure:
                delay = self._retry_delay(failure, attempt)
                if delay is None:
                    raise ProviderError(
                        self.name,
                        request.endpoint,
                        failure.kind,
                        failure.message,
                        status=failure.status,
                    ) from None
                log.debug(
                    "%s/%s: %s, retry in %.2fs", self.name, request.endpoint, failure.kind, delay
                )
                await asyncio.sleep(delay)

    def _refuse_if_open(self, request: Request) -> None:
        """Refuse locally, without a call or a rate-limit token, while the breaker is open."""
        wait = self.breaker.retry_in(self._clock())
        if wait > 0:
            metrics.provider_requests.labels(self.name, "circuit_open").inc()
            message = f"circuit open, retry in {wait:.1f}s"
            raise ProviderError(self.name, request.endpoint, "circuit_open", message, called=False)

    def _retry_delay(self, failure: _TryFailed, attempt: int) -> float | None:
        retry = self.spec.retry
        if failure.kind not in RETRYABLE_KINDS or attempt >= retry.max_attempts:
            return None
        delay = max(backoff_delay(attempt, retry, self._rng), failure.retry_after or 0.0)
        return delay if delay <= retry.max_wait_in_call else None

    async def _try_once(self, request: Request, parse: ParseFn[T], attempt: int) -> object:
        try:
            await self.limiter.acquire(request.cost, max_wait=self.spec.retry.max_wait_in_call)
        except RateLimitWaitError as wait:
            metrics.provider_requests.labels(self.name, "throttled").inc()
            raise ProviderError(
                self.name, request.endpoint, "rate_limited", str(wait), called=False
            ) from None
        if not self.breaker.allow(self._clock()):
            metrics.provider_requests.labels(self.name, "circuit_open").inc()
            raise ProviderError(
                self.name, request.endpoint, "circuit_open", "circuit open", called=False
            )
        self.calls += 1
        started = self._clock()
        answer: _Answer | None = None
        try:
            answer = await self._send(request)
            value = self._interpret(request, answer, parse)
        except _TryFailed as failure:
            self._settle(request, attempt, started, answer, failure)
            raise
        self._settle(request, attempt, started, answer, None)
        return value

    async def _send(self, request: Request) -> _Answer:
        spec, key = self.spec, self.provider.api_key
        params = dict(request.params)
        headers = {**spec.headers, **request.headers}
        if key is not None and spec.key is not None:
            target = params if spec.key.placement is KeyPlacement.QUERY else headers
            target[spec.key.name] = key.get_secret_value()
        cache_key = _cache_key(request)
        if request.conditional and cache_key in self._validators:
            etag, modified = self._validators[cache_key]
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        url = self.provider.base_url + request.path
        try:
            async with asyncio.timeout(spec.timeouts.total):
                async with self._http.stream(
                    request.method,
                    url,
                    params=params,
                    headers=headers,
                    json=request.json_body,
                    timeout=self._timeout,
                ) as response:
                    body = await self._read_capped(response)
                    answer = _Answer(response.status_code, body, response.headers)
        except TimeoutError:
            raise _TryFailed("timeout", f"no answer within {spec.timeouts.total:g}s") from None
        except httpx.TimeoutException as exc:
            raise _TryFailed(
                "timeout", f"{type(exc).__name__} after the configured timeout"
            ) from None
        except httpx.TransportError as exc:
            # Broken before a status line arrived; a break during the body is caught as a
            # truncated answer in _read_capped.
            raise _TryFailed("connect", f"{type(exc).__name__}: {mask(str(exc))}") from None
        if request.conditional and 200 <= answer.status < 300:
            self._remember_validators(cache_key, answer.headers)
        return answer

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.spec.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _TryFailed(
                "too_large",
                f"body of {declared} bytes is over the {cap}-byte cap",
                response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    raise _TryFailed(
                        "too_large", f"body cut off at the {cap}-byte cap", response.status_code
                    )
                chunks.append(chunk)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _TryFailed(
                "parse",
                f"body broke off after {size} bytes: {type(exc).__name__}",
                response.status_code,
            ) from None
        return b"".join(chunks)

    def _interpret(self, request: Request, answer: _Answer, parse: ParseFn[T]) -> object:
        status = answer.status
        if status == 304 and request.conditional:
            return _NOT_MODIFIED
        slow_down = status == 429 or status in self.spec.rate_limit_statuses
        if slow_down or status >= 500:
            retry_after = parse_retry_after(
                answer.headers.get("retry-after"),
                now=datetime.now(UTC),
                cap=self.spec.retry.max_retry_after,
            )
            if slow_down:
                raise self._rate_limited(status, _status_text(status, retry_after), retry_after)
            raise _TryFailed("http_5xx", _status_text(status, retry_after), status, retry_after)
        if status >= 400:
            raise _TryFailed("http_4xx", _status_text(status, None), status)
        if status >= 300:
            raise _TryFailed("http_4xx", f"unexpected redirect HTTP {status}", status)
        context = ParseContext(self.name, request.endpoint, datetime.now(UTC))
        try:
            return parse(answer.body, context)
        except RateLimitedError as exc:  # before ValueError: it is one
            retry_after = _capped(exc.retry_after_s, self.spec.retry.max_retry_after)
            said = mask(str(exc))
            if retry_after is not None:
                said += f", retry in {retry_after:g}s"
            raise self._rate_limited(status, said, retry_after) from None
        except (InvalidDataError, msgspec.ValidationError) as exc:
            raise _TryFailed("invalid_data", mask(str(exc)), status) from None
        except (ParseError, msgspec.DecodeError) as exc:
            raise _TryFailed("parse", mask(str(exc)), status) from None
        except ValueError as exc:
            raise _TryFailed("invalid_data", mask(str(exc)), status) from None
        except (TypeError, KeyError, IndexError, AttributeError, UnicodeDecodeError) as exc:
            raise _TryFailed("parse", f"{type(exc).__name__}: {mask(str(exc))}", status) from None

    def _rate_limited(self, status: int, message: str, retry_after: float | None) -> _TryFailed:
        """A 429, or a 2xx body saying the same: pause the provider for what it asked, or for
        the declared backoff ceiling when it gave no time, and fail the try as `rate_limited`."""
        self.limiter.pause(retry_after if retry_after is not None else self.spec.retry.max_delay)
        return _TryFailed("rate_limited", message, status, retry_after)

    def _settle(
        self,
        request: Request,
        attempt: int,
        started: float,
        answer: _Answer | None,
        failure: _TryFailed | None,
    ) -> None:
        """Update the breaker, metrics and the attempt stream after one HTTP try."""
        latency = max(0.0, self._clock() - started)
        kind = failure.kind if failure else None
        if kind in AVAILABILITY_KINDS:
            self.breaker.record_failure(self._clock())
        elif kind == "rate_limited":
            self.breaker.release_probe()
        else:
            self.breaker.record_success()
        outcome = kind or ("not_modified" if answer is not None and answer.status == 304 else "ok")
        metrics.provider_requests.labels(self.name, outcome).inc()
        metrics.provider_latency.labels(self.name).observe(latency)
        if failure:
            log.info(
                "%s/%s attempt %d failed: %s: %s",
                self.name,
                request.endpoint,
                attempt,
                kind,
                failure.message,
            )
        if self._attempts is None:
            return
        now = datetime.now(UTC)
        status = answer.status if answer is not None else failure.status if failure else None
        event = ProviderAttempt(
            provider=self.name,
            endpoint=request.endpoint,
            ok=failure is None,
            status=status,
            latency_ms=latency * 1000.0,
            error_kind=kind,
            error=mask(failure.message) if failure else None,
            attempt=attempt,
            rate_limit=_rate_limit_seen(answer.headers if answer else None, failure),
            source=self._source,
            observed_at=now,
            received_at=now,
        )
        try:
            self._attempts(event)
        except Exception:  # a broken sink must never break a provider call
            log.exception("attempt sink failed for %s", self.name)

    def _remember_validators(self, cache_key: str, headers: httpx.Headers) -> None:
        etag, modified = headers.get("etag"), headers.get("last-modified")
        if not etag and not modified:
            return
        self._validators[cache_key] = (etag, modified)
        self._validators.move_to_end(cache_key)
        while len(self._validators) > _CONDITIONAL_CACHE_SIZE:
            self._validators.popitem(last=False)


_NOT_MODIFIED = object()


def _cache_key(request: Request) -> str:
    params = "&".join(f"{k}={v}" for k, v in sorted(request.params.items()))
    return f"{request.method} {request.path}?{params}"


def _capped(seconds: float | None, cap: float) -> float | None:
    """A wait a parse function read from a body, bounded like a Retry-After header."""
    if seconds is None or seconds != seconds:  # absent or NaN
        return None
    return min(cap, max(0.0, seconds))


def _status_text(status: int, retry_after: float | None) -> str:
    text = f"HTTP {status}"
    return text if retry_after is None else f"{text}, Retry-After {retry_after:g}s"


def _int_header(headers: httpx.Headers, *names: str) -> int | None:
    for name in names:
        value = headers.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def _rate_limit_seen(
    headers: httpx.Headers | None, failure: _TryFailed | None
) -> RateLimitSeen | None:
    """The rate-limit headers the provider sent, in whichever common spelling it uses."""
    if headers is None:
        return None
    limit = _int_header(headers, "x-ratelimit-limit", "ratelimit-limit", "x-ratelimit-limit-minute")
    remaining = _int_header(
        headers, "x-ratelimit-remaining", "ratelimit-remaining", "x-ratelimit-remaining-minute"
    )
    reset = _int_header(headers, "x-ratelimit-reset", "ratelimit-reset")
    retry_after = failure.retry_after if failure else None
    if limit is None and remaining is None and reset is None and retry_after is None:
        return None
    return RateLimitSeen(
        limit=limit,
        remaining=remaining,
        reset_seconds=float(reset) if reset is not None else None,
        retry_after_seconds=retry_after,
    )
