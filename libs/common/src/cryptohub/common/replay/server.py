"""The replay server: recorded provider bodies and injected faults over real HTTP on loopback."""

import asyncio
import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, unquote

from cryptohub.common.replay.bodies import GARBAGE, error_body, oversize_chunks
from cryptohub.common.replay.conditional import http_date, not_modified
from cryptohub.common.replay.control import CONTROL_PREFIX, ControlApi
from cryptohub.common.replay.faults import Fault, FaultTable
from cryptohub.common.replay.recorder import RecordedRequest, RequestLog
from cryptohub.common.replay.routes import Route, RouteTable, normalize_path
from cryptohub.common.replay.wire import BadRequestError, HttpConnection, IncomingRequest, Reply

log = logging.getLogger(__name__)

_VALIDATORS = ("etag", "last-modified")


class ReplayServer:
    """Serves `http://HOST:PORT/{provider}/{path}` from a route table, with faults on demand.

    A provider's base URL is `base_url(provider)`. Use as an async context manager, or call
    `start()` / `stop()`. Everything runs on the event loop that started it.
    """

    def __init__(
        self,
        routes: RouteTable | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_recorded: int = 10_000,
    ) -> None:
        self._routes = routes.copy() if routes is not None else RouteTable()
        self._faults = FaultTable()
        self._log = RequestLog(max_recorded)
        self._control = ControlApi(self._routes, self._faults, self._log)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._arrival = asyncio.Event()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the replay server is already running")
        self._server = await asyncio.start_server(self._on_connection, self._host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("replay server listening on %s (%d routes)", self.url, len(self._routes))

    async def stop(self) -> None:
        """Stop listening and drop every open connection, hung ones included."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        log.info("replay server on %s:%d stopped", self._host, self._port)

    @property
    def url(self) -> str:
        """`http://HOST:PORT`, once started."""
        if self._server is None:
            raise RuntimeError("the replay server is not running")
        return f"http://{self._host}:{self._port}"

    def base_url(self, provider: str) -> str:
        """What `CRYPTOHUB_<PROVIDER>_BASE_URL` should be to send `provider` here."""
        return f"{self.url}/{provider}"

    def add_route(
        self,
        provider: str,
        method: str,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
        rpc_method: str | None = None,
    ) -> Route:
        """Serve `body` for this request; beats any recorded route that also matches."""
        route = Route(
            provider=provider,
            method=method,
            path=path,
            body=body,
            status=status,
            content_type=content_type,
            headers=dict(headers or {}),
            query=dict(query or {}),
            rpc_method=rpc_method,
        )
        self._routes.add(route, override=True)
        return route

    def inject(self, provider: str, path: str, fault: Fault, *, method: str = "GET") -> None:
        """Misbehave on `method path` of `provider` (`*` for any path or method)."""
        self._faults.inject(provider, path, fault, method=method)

    def clear_faults(self, provider: str | None = None) -> int:
        return self._faults.clear(provider)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far (control API calls excluded), oldest first."""
        return list(self._log)

    def request_count(self, provider: str, path: str | None = None) -> int:
        """How many requests reached `provider` (and `path`, relative to it)."""
        return len(self._log.select(provider, path))

    def clear_requests(self) -> int:
        return self._log.clear()

    async def wait_for_requests(
        self, provider: str, path: str | None = None, *, count: int = 1
    ) -> list[RecordedRequest]:
        """Wait until `count` requests have reached `provider` (and `path`); bound it yourself
        (`asyncio.timeout`). Returns those requests."""
        while len(found := self._log.select(provider, path)) < count:
            await self._arrival.wait()
        return found

    def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Our own task per connection (not asyncio's), so `stop()` can cancel it quietly.
        task = asyncio.create_task(self._serve_connection(HttpConnection(reader, writer)))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve_connection(self, conn: HttpConnection) -> None:
        try:
            while True:
                try:
                    request = await conn.next_request()
                except BadRequestError as exc:
                    await conn.send_error(exc.status, exc.reason)
                    break
                if request is None:
                    break
                if not await self._answer(conn, request) or not conn.start_next_cycle():
                    break
            conn.close()
        except asyncio.CancelledError:
            conn.abort()
            raise
        except ConnectionError as exc:
            log.debug("replay connection dropped: %r", exc)
            conn.abort()
        except Exception:
            log.exception("replay connection failed")
            conn.abort()

    async def _answer(self, conn: HttpConnection, request: IncomingRequest) -> bool:
        """Answer one request; False when the connection cannot carry another."""
        provider, path, query = _split_target(request.target)
        if provider == CONTROL_PREFIX:
            await conn.send(self._control.handle(request.method, path, query, request.body))
            return True
        self._log.append(
            RecordedRequest(
                provider=provider,
                method=request.method,
                path=path,
                query=query,
                headers=request.headers,
                at=time.monotonic(),
                body=request.body,
            )
        )
        self._arrival.set()  # wake every waiter, then arm a fresh event for the next arrival
        self._arrival = asyncio.Event()
        head = request.method == "HEAD"
        method = "GET" if head else request.method
        route = self._routes.find(provider, method, path, query, request.body)
        fault = self._faults.take(provider, method, path)
        if fault is None:
            reply = self._reply(provider, method, path, route, request.headers)
            log.debug("%s %s %s -> %d", provider, method, route and route.source, reply.status)
            await conn.send(reply, head=head)
            return True
        log.debug("%s %s -> injected %r", provider, method, fault)
        return await self._misbehave(conn, request, provider, path, route, fault)

    def _reply(
        self,
        provider: str,
        method: str,
        path: str,
        route: Route | None,
        request_headers: Mapping[str, str] | None,
    ) -> Reply:
        """The honest answer; with `request_headers`, a 304 where a validator matches."""
        if route is None:
            if provider in self._routes.providers():
                message = f"no recorded route for {method} {path} that matches this request"
            else:
                message = (
                    f"unknown provider {provider!r}: nothing is recorded for it in this replay"
                    f" (GET /{CONTROL_PREFIX}/health lists the recorded providers)"
                )
            return Reply.json(404, {"error": message, "status": 404})
        headers = [
            ("content-type", route.content_type),
            ("etag", route.etag),
            ("last-modified", http_date(route.last_modified)),
            *route.headers.items(),
        ]
        if (
            request_headers is not None
            and method == "GET"
            and 200 <= route.status < 300
            and not_modified(request_headers, route.etag, route.last_modified)
        ):
            return Reply(304, [h for h in headers if h[0] != "content-type"])
        return Reply(route.status, headers, route.body)

    async def _misbehave(
        self,
        conn: HttpConnection,
        request: IncomingRequest,
        provider: str,
        path: str,
        route: Route | None,
        fault: Fault,
    ) -> bool:
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.hang:
            await conn.wait_for_peer_close()
            return False
        if fault.reset:
            conn.reset()
            return False
        head = request.method == "HEAD"
        method = "GET" if head else request.method
        rewrites = fault.status is not None or fault.body is not None or fault.garbage
        oversize = fault.oversize_bytes is not None
        honest = self._reply(
            provider,
            method,
            path,
            route,
            None if (rewrites or oversize or fault.truncate) else request.headers,
        )
        reply = honest
        if fault.status is not None:
            body = error_body(fault.status, "injected fault") if fault.body is None else fault.body
            reply = Reply(fault.status, [("content-type", "application/json")], body)
        elif fault.body is not None:
            reply = honest.replace(body=fault.body, drop=_VALIDATORS)
        if fault.garbage:
            reply = reply.replace(status=fault.status or 200, body=GARBAGE, drop=_VALIDATORS)
        reply = reply.replace(add=fault.response_headers)
        if oversize and not head:
            size = fault.oversize_bytes or 0
            streamed = reply.replace(status=fault.status or 200, drop=_VALIDATORS)
            await conn.send_streamed(streamed, oversize_chunks(size, honest.content_type))
            return True
        if fault.truncate and not head:
            await conn.send_truncated(reply)
            return False
        await conn.send(reply, head=head)
        return True


def _split_target(target: str) -> tuple[str, str, dict[str, str]]:
    """`/coingecko/api/v3/x?a=1` -> (`coingecko`, `/api/v3/x`, {`a`: `1`}), percent-decoded."""
    raw_path, _, raw_query = target.partition("?")
    provider, _, rest = raw_path.lstrip("/").partition("/")
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    return unquote(provider), normalize_path(unquote(rest)), query
