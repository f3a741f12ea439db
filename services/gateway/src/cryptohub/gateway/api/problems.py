"""Errors as RFC 9457 `application/problem+json`: one shape for every 4xx and 5xx the API sends."""

import logging
from http import HTTPStatus
from typing import Any, Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from cryptohub.gateway.errors import DatabaseUnavailableError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemError",
    "exception_handlers",
    "problem_response",
    "problem_responses",
    "validation_response",
]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One invalid input."""

    field: str | None = None
    source: str | None = None
    message: str


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """What went wrong, for people (`detail`) and programs (`status`, `errors`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    retry_after_s: int | None = None


class ProblemError(HTTPException):
    """Raise to answer with a problem, e.g. `ProblemError(503, "no market snapshot newer ...")`."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status, headers=headers)
        self.retry_after_s = retry_after_s


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    retry_after_s: int | None = None,
) -> Response[Problem]:
    problem = Problem(
        title=_title(status),
        status=status,
        detail=detail,
        errors=errors,
        retry_after_s=retry_after_s,
    )
    return Response(problem, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route may answer (400 and 429 are always added)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_title(status),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted({400, 429, *statuses})
    }


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def validation_response(exc: ValidationException, status: int = 400) -> Response[Problem]:
    """The problem for invalid input, listing each invalid field (422 on the old hub's routes)."""
    errors = [
        FieldError(
            field=_text(item.get("key")),
            source=_text(item.get("source")),
            message=_text(item.get("message")) or "invalid",
        )
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    fields = ", ".join(e.field for e in errors if e.field)
    detail = f"invalid input: {fields}" if fields else "invalid input"
    if not errors and exc.detail and exc.detail != "Bad Request":
        detail = f"invalid input: {exc.detail}"
    return problem_response(status, detail, errors=errors or None)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    return validation_response(exc)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc, ProblemError):
        return problem_response(
            status, exc.detail, headers=exc.headers, retry_after_s=exc.retry_after_s
        )
    detail = exc.detail if exc.detail and exc.detail != _title(status) else _default(status)
    return problem_response(status, detail, headers=exc.headers)


def _unavailable(_: Request[Any, Any, Any], exc: DatabaseUnavailableError) -> Response[Problem]:
    return problem_response(
        503,
        f"history is unavailable right now ({exc.reason}); live data still is",
        headers={"Retry-After": "5"},
        retry_after_s=5,
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal error; it has been logged")


def _default(status: int) -> str:
    return {
        404: "no such resource",
        405: "method not allowed on this resource",
    }.get(status, _title(status).lower())


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def exception_handlers() -> ExceptionHandlersMap:
    return {
        ValidationException: _validation,
        DatabaseUnavailableError: _unavailable,
        HTTPException: _http,
        Exception: _unexpected,
    }
