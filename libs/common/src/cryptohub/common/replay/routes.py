"""The route table: which recorded body answers which provider request, loaded from routes.json."""

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

log = logging.getLogger(__name__)

ROUTES_FILE = "routes.json"
ROUTES_VERSION = 1
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*")


class RouteTableError(ValueError):
    """A route table that cannot be loaded; names the file and, when known, the entry."""

    def __init__(self, file: Path, entry: str | None, reason: str) -> None:
        self.file = file
        self.entry = entry
        self.reason = reason
        where = f"{file} [{entry}]" if entry else str(file)
        super().__init__(f"{where}: {reason}")


def normalize_path(path: str) -> str:
    """`/a/b/` and `a/b` -> `/a/b`; the root stays `/`. Paths are compared after this."""
    path = "/" + path.lstrip("/")
    return path.rstrip("/") or "/"


def now_http() -> datetime:
    """Now, UTC, to the second: the resolution of an HTTP date."""
    return datetime.now(UTC).replace(microsecond=0)


class RpcCall(msgspec.Struct):
    """The part of a JSON-RPC request that routes match on."""

    method: str
    params: list[Any] = []


_decode_rpc = msgspec.json.Decoder(RpcCall).decode


def parse_rpc_call(body: bytes) -> RpcCall | None:
    """The JSON-RPC call in a request body, or None when the body is not a single call."""
    if not body:
        return None
    try:
        return _decode_rpc(body)
    except msgspec.DecodeError:
        return None


def _same_json(expected: Any, actual: Any) -> bool:
    # `False == 0` in Python; a JSON-RPC param must match in type as well as value.
    return type(expected) is type(actual) and bool(expected == actual)


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One answer: `method` + `path` (+ exact query params, + JSON-RPC method/params) -> body.

    `query` values must equal the request's; a `None` value means "the param must be absent".
    `rpc_params` entries must equal the call's params position by position; `None` is a wildcard.
    """

    provider: str
    method: str
    path: str
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str | None] = field(default_factory=dict)
    rpc_method: str | None = None
    rpc_params: tuple[Any, ...] | None = None
    last_modified: datetime = field(default_factory=now_http)
    source: str = "added at run time"
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "path", normalize_path(self.path))
        digest = hashlib.sha256(self.body).hexdigest()[:32]
        object.__setattr__(self, "etag", f'"{digest}"')

    @property
    def specificity(self) -> int:
        """How many constraints beyond method + path; the most specific match wins."""
        params = sum(p is not None for p in self.rpc_params or ())
        return len(self.query) + (self.rpc_method is not None) + params

    def matches(self, query: Mapping[str, str], rpc: RpcCall | None) -> bool:
        """Whether a request on this route's method and path also meets its constraints."""
        for name, value in self.query.items():
            if query.get(name) != value:
                return False
        if self.rpc_method is None:
            return True
        if rpc is None or rpc.method != self.rpc_method:
            return False
        if self.rpc_params is None:
            return True
        if len(rpc.params) != len(self.rpc_params):
            return False
        return all(
            want is None or _same_json(want, got)
            for want, got in zip(self.rpc_params, rpc.params, strict=True)
        )


class RouteTable:
    """Routes by provider and path. A match is ranked by: added with `add(override=True)` first,
    then specificity, then the latest added."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._by_key: dict[tuple[str, str, str], list[tuple[int, int, Route]]] = {}
        self._seq = 0
        for route in routes:
            self.add(route)

    def add(self, route: Route, *, override: bool = False) -> None:
        self._seq += 1
        key = (route.provider, route.method, route.path)
        self._by_key.setdefault(key, []).append((int(override), self._seq, route))

    def copy(self) -> "RouteTable":
        table = RouteTable()
        table._by_key = {key: list(entries) for key, entries in self._by_key.items()}
        table._seq = self._seq
        return table

    def find(
        self, provider: str, method: str, path: str, query: Mapping[str, str], body: bytes = b""
    ) -> Route | None:
        """The best route for a request, or None. `path` is relative to the provider."""
        entries = self._by_key.get((provider, method.upper(), normalize_path(path)), [])
        rpc = parse_rpc_call(body) if any(e[2].rpc_method for e in entries) else None
        best: tuple[int, int, int] | None = None
        found: Route | None = None
        for tier, seq, route in entries:
            rank = (tier, route.specificity, seq)
            if (best is None or rank > best) and route.matches(query, rpc):
                best, found = rank, route
        return found

    def providers(self) -> set[str]:
        return {provider for provider, _, _ in self._by_key}

    def __iter__(self) -> Iterator[Route]:
        for entries in self._by_key.values():
            for _, _, route in entries:
                yield route

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_key.values())


class _RouteEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    path: str
    file: str
    method: str = "GET"
    query: dict[str, str | None] = {}
    rpc_method: str | None = None
    rpc_params: list[Any] | None = None
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = {}
    note: str = ""


_decode_entry = msgspec.json.Decoder(_RouteEntry).decode


class _RouteFile(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    providers: dict[str, list[msgspec.Raw]]  # entries decoded one by one, to name a bad one


def load_routes(directory: Path | str) -> RouteTable:
    """Read `directory/routes.json` and every body it names (paths relative to `directory`)."""
    folder = Path(directory).resolve()
    table_file = folder / ROUTES_FILE
    try:
        spec = msgspec.json.decode(table_file.read_bytes(), type=_RouteFile)
    except OSError as exc:
        raise RouteTableError(table_file, None, f"cannot read: {exc.strerror}") from exc
    except msgspec.ValidationError as exc:
        raise RouteTableError(table_file, None, str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise RouteTableError(table_file, None, f"not valid JSON: {exc}") from exc
    if spec.version != ROUTES_VERSION:
        reason = f"version {spec.version} is not supported (expected {ROUTES_VERSION})"
        raise RouteTableError(table_file, "version", reason)

    routes: list[Route] = []
    seen: set[tuple[Any, ...]] = set()
    for provider, entries in spec.providers.items():
        if not _PROVIDER_NAME.fullmatch(provider):
            reason = "provider names are lower-case letters, digits, '_' and '-'"
            raise RouteTableError(table_file, f"providers.{provider}", reason)
        for index, raw in enumerate(entries):
            try:
                entry = _decode_entry(raw)
            except msgspec.ValidationError as exc:
                raise RouteTableError(
                    table_file, f"providers.{provider}[{index}]", str(exc)
                ) from exc
            label = f"providers.{provider}[{index}] {entry.method} {entry.path}"
            route = _build_route(folder, table_file, label, provider, entry)
            identity = (
                route.provider,
                route.method,
                route.path,
                tuple(sorted(route.query.items())),
                route.rpc_method,
                msgspec.json.encode(route.rpc_params),
            )
            if identity in seen:
                raise RouteTableError(table_file, label, "same match as an earlier entry")
            seen.add(identity)
            routes.append(route)
    log.debug("loaded %d routes from %s", len(routes), table_file)
    return RouteTable(routes)


def _build_route(
    folder: Path, table_file: Path, label: str, provider: str, entry: _RouteEntry
) -> Route:
    def fail(reason: str) -> RouteTableError:
        return RouteTableError(table_file, label, reason)

    method = entry.method.upper()
    if method not in METHODS:
        raise fail(f"unknown method {entry.method!r}")
    if not entry.path.startswith("/"):
        raise fail("path must start with '/'")
    if not 100 <= entry.status <= 599:
        raise fail(f"status {entry.status} is not an HTTP status")
    if entry.rpc_params is not None and entry.rpc_method is None:
        raise fail("rpc_params needs rpc_method")
    body_file = (folder / entry.file).resolve()
    if not body_file.is_relative_to(folder):
        raise fail(f"file {entry.file!r} is outside {folder}")
    try:
        body = body_file.read_bytes()
        mtime = body_file.stat().st_mtime
    except OSError as exc:
        raise fail(f"cannot read file {entry.file!r}: {exc.strerror}") from exc
    return Route(
        provider=provider,
        method=method,
        path=entry.path,
        body=body,
        status=entry.status,
        content_type=entry.content_type,
        headers=dict(entry.headers),
        query=dict(entry.query),
        rpc_method=entry.rpc_method,
        rpc_params=None if entry.rpc_params is None else tuple(entry.rpc_params),
        last_modified=datetime.fromtimestamp(int(mtime), UTC),
        source=entry.file,
    )
