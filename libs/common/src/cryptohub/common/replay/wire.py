"""HTTP/1.1 over asyncio streams with h11: read requests, write (or deliberately break) replies."""

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus

import h11
import msgspec

MAX_REQUEST_BODY = 1 << 20
_READ_SIZE = 64 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})


class BadRequestError(Exception):
    """A request we cannot serve; answered with `status`, then the connection is closed."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status} {reason}")


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """A complete request; header names are lower-case, repeated headers joined with `, `."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: status, headers (Content-Length is added when sent) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: object) -> "Reply":
        return cls(status, [("content-type", "application/json")], msgspec.json.encode(payload))

    @property
    def content_type(self) -> str:
        return self.header("content-type") or "application/octet-stream"

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def replace(
        self,
        *,
        status: int | None = None,
        body: bytes | None = None,
        drop: Iterable[str] = (),
        add: Iterable[tuple[str, str]] = (),
    ) -> "Reply":
        dropped = set(drop)
        headers = [(k, v) for k, v in self.headers if k not in dropped]
        return Reply(
            self.status if status is None else status,
            [*headers, *add],
            self.body if body is None else body,
        )


class HttpConnection:
    """One server-side HTTP/1.1 connection: h11 for the protocol, our own hands on the socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(h11.SERVER)

    async def next_request(self) -> IncomingRequest | None:
        """The next complete request, or None once the peer has closed the connection."""
        request: h11.Request | None = None
        body = bytearray()
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise BadRequestError(exc.error_status_hint, str(exc)) from exc
            if event is h11.NEED_DATA:
                self._h11.receive_data(await self._reader.read(_READ_SIZE))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_REQUEST_BODY:
                    raise BadRequestError(413, "request body too large")
            elif isinstance(event, h11.EndOfMessage) and request is not None:
                return IncomingRequest(
                    method=request.method.decode("ascii"),
                    target=request.target.decode("ascii"),
                    headers=_decode_headers(request.headers),
                    body=bytes(body),
                )
            else:  # ConnectionClosed, PAUSED
                return None

    def start_next_cycle(self) -> bool:
        """Get ready for the next request on this connection; False if it must close."""
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            return True
        return False

    async def send(self, reply: Reply, *, head: bool = False) -> None:
        """The whole reply (headers only for HEAD, 204 and 304)."""
        headers = reply.headers
        if reply.status not in _NO_BODY_STATUSES:
            headers = [*headers, ("content-length", str(len(reply.body)))]
        self._send(h11.Response(status_code=reply.status, headers=headers, reason=_reason(reply)))
        if reply.body and not head and reply.status not in _NO_BODY_STATUSES:
            self._send(h11.Data(data=reply.body))
        self._send(h11.EndOfMessage())
        await self._writer.drain()

    async def send_streamed(self, reply: Reply, chunks: Iterable[bytes]) -> None:
        """Headers, then `chunks` with chunked transfer encoding (no Content-Length)."""
        headers = [*reply.headers, ("transfer-encoding", "chunked")]
        self._send(h11.Response(status_code=reply.status, headers=headers, reason=_reason(reply)))
        for chunk in chunks:
            if chunk:
                self._send(h11.Data(data=chunk))
                await self._writer.drain()
        self._send(h11.EndOfMessage())
        await self._writer.drain()

    async def send_truncated(self, reply: Reply) -> None:
        """Headers with the full Content-Length, half the body, then close (FIN)."""
        declared = max(len(reply.body), 1)
        headers = [*reply.headers, ("content-length", str(declared))]
        self._send(h11.Response(status_code=reply.status, headers=headers, reason=_reason(reply)))
        if part := reply.body[: len(reply.body) // 2]:
            self._send(h11.Data(data=part))
        await self._writer.drain()
        self.close()

    async def send_error(self, status: int, message: str) -> None:
        """An error reply with `Connection: close`, if the protocol state still allows one."""
        if self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        reply = Reply.json(status, {"error": message, "status": status})
        with contextlib.suppress(h11.LocalProtocolError):
            await self.send(reply.replace(add=[("connection", "close")]))

    async def wait_for_peer_close(self) -> None:
        """Read and discard until the peer closes: how a hung reply ends on the client's side."""
        while await self._reader.read(_READ_SIZE):
            pass

    def reset(self) -> None:
        """Close abruptly: SO_LINGER 0 makes the kernel send RST instead of FIN."""
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._writer.transport.abort()

    def close(self) -> None:
        """Flush what is buffered, then FIN."""
        self._writer.close()

    def abort(self) -> None:
        """Drop the connection now, unsent data and all."""
        self._writer.transport.abort()

    def _send(self, event: h11.Event) -> None:
        data = self._h11.send(event)
        if data:
            self._writer.write(data)


def _decode_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _reason(reply: Reply) -> bytes:
    try:
        return HTTPStatus(reply.status).phrase.encode("ascii")
    except ValueError:
        return b""
