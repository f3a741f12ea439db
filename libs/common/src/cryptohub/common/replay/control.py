"""The HTTP control API under /_replay/, so another process can drive a running replay server."""

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from cryptohub.common.replay.faults import Fault, FaultTable
from cryptohub.common.replay.recorder import RecordedRequest, RequestLog
from cryptohub.common.replay.routes import RouteTable
from cryptohub.common.replay.wire import Reply

CONTROL_PREFIX = "_replay"
"""First path segment of the control API; provider names cannot start with `_`."""

MASK = "***"
_SECRET_NAME = re.compile(r"key|token|secret|auth|sign|cookie|passw|session", re.IGNORECASE)


class ControlApi:
    """`GET /health`, `GET|DELETE /requests`, `GET|POST|DELETE /faults` (under `/_replay`)."""

    def __init__(self, routes: RouteTable, faults: FaultTable, requests: RequestLog) -> None:
        self._routes = routes
        self._faults = faults
        self._requests = requests

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Reply:
        provider = query.get("provider") or None
        match method, path:
            case "GET", "/health":
                return Reply.json(200, self._health())
            case "GET", "/requests":
                selected = self._requests.select(provider, query.get("path") or None)
                return Reply.json(200, {"requests": [_public(r) for r in selected]})
            case "DELETE", "/requests":
                return Reply.json(200, {"cleared": self._requests.clear()})
            case "GET", "/faults":
                return Reply.json(200, {"faults": self._armed()})
            case "POST", "/faults":
                return self._inject(body)
            case "DELETE", "/faults":
                return Reply.json(200, {"cleared": self._faults.clear(provider)})
            case _, "/health" | "/requests" | "/faults":
                return Reply.json(
                    405, {"error": f"{method} not allowed on /{CONTROL_PREFIX}{path}"}
                )
        return Reply.json(404, {"error": f"no control endpoint /{CONTROL_PREFIX}{path}"})

    def _health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "providers": sorted(self._routes.providers()),
            "routes": len(self._routes),
            "faults": len(self._faults),
            "requests": len(self._requests),
        }

    def _armed(self) -> list[dict[str, Any]]:
        return [
            {"provider": p, "method": m, "path": path, "remaining": left, **_fault_json(fault)}
            for p, m, path, fault, left in self._faults.armed()
        ]

    def _inject(self, body: bytes) -> Reply:
        """Body: `{"provider", "path", "method"?, ...Fault fields}`; `body` is text, not base64."""
        try:
            spec = msgspec.json.decode(body, type=dict[str, Any])
            provider, path = spec.pop("provider"), spec.pop("path")
            method = spec.pop("method", "GET")
            if not all(isinstance(v, str) for v in (provider, path, method)):
                raise TypeError("provider, path and method must be strings")
            if isinstance(spec.get("body"), str):
                spec["body"] = spec["body"].encode()
            fault = msgspec.convert(spec, Fault)
        except KeyError as exc:
            return Reply.json(400, {"error": f"missing field {exc.args[0]!r}"})
        except (msgspec.DecodeError, TypeError) as exc:
            return Reply.json(400, {"error": str(exc)})
        self._faults.inject(provider, path, fault, method=method)
        return Reply.json(201, {"provider": provider, "method": method.upper(), "path": path})


def _fault_json(fault: Fault) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(fault)
    if fault.body is not None:
        data["body"] = fault.body.decode("utf-8", errors="replace")
    return data


def _public(request: RecordedRequest) -> dict[str, Any]:
    """A recorded request as JSON, with anything that looks like a credential masked."""
    return {
        "provider": request.provider,
        "method": request.method,
        "path": request.path,
        "query": _masked(request.query),
        "headers": _masked(request.headers),
        "body": request.body.decode("utf-8", errors="replace"),
        "at": request.at,
    }


def _masked(values: Mapping[str, str]) -> dict[str, str]:
    return {k: MASK if _SECRET_NAME.search(k) else v for k, v in values.items()}
