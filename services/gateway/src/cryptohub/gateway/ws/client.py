"""One connected WebSocket: its outbox, the writer task draining it, and how it is closed."""

import asyncio
import logging
import time
from typing import Any, Final

from litestar import WebSocket
from litestar.types import WebSocketSendEvent

from cryptohub.gateway.ws import metrics
from cryptohub.gateway.ws.frames import control
from cryptohub.gateway.ws.outbox import Entry, Outbox

__all__ = ["Client"]

log = logging.getLogger(__name__)

_CLOSE_TIMEOUT_S: Final = 5.0


def _text(frame: str) -> WebSocketSendEvent:
    return {"type": "websocket.send", "bytes": None, "text": frame}


class Client:
    """A connection's send side. `offer` never blocks; the writer task sends in queue order and,
    after frames were dropped, first tells the client how many (`{"type": "dropped"}`)."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], *, endpoint: str, address: str, capacity: int
    ) -> None:
        self.socket = socket
        self.endpoint = endpoint
        self.address = address
        self.outbox = Outbox(capacity)
        self.connected_at = time.time()
        self.last_heard = time.monotonic()
        self.last_ping = time.monotonic()
        self.close_code: int | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._sent = metrics.frames_sent.labels(endpoint)
        self._dropped = metrics.dropped.labels(endpoint)
        self._conflated = metrics.conflated.labels(endpoint)

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.address}")

    def offer(self, entry: Entry) -> None:
        """Queue a live frame (conflating or dropping oldest when the client is behind)."""
        conflated = self.outbox.conflated
        if not self.outbox.offer(entry):
            self._dropped.inc()
        elif self.outbox.conflated != conflated:
            self._conflated.inc()

    def reply(self, frame: str) -> None:
        """Queue a frame that must arrive (a reply to the client), even beyond capacity."""
        self.outbox.force(Entry(frame))

    async def _write(self) -> None:
        send = self.socket.send
        outbox = self.outbox
        sent = 0
        try:
            while True:
                if sent and not outbox:
                    self._sent.inc(sent)  # counted per burst: a metric update costs per call
                    sent = 0
                entry = await outbox.get()
                dropped = outbox.take_dropped()
                if dropped:
                    notice = control("dropped", count=sum(dropped.values()), channels=dropped)
                    await send(_text(notice))
                await send(_text(entry.frame))
                sent += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any transport error ends this writer only
            log.debug("ws writer for %s ended: %r", self.address, exc)

    def close_soon(self, code: int, reason: str) -> None:
        """Close with `code` (once): stop writing, send the close frame in the background."""
        if self.close_code is not None:
            return
        self.close_code = code
        metrics.closed.labels(reason.split(":")[0]).inc()
        log.info("closing ws client %s: %s (%d)", self.address, reason, code)
        self.outbox.close()
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self.socket.close(code, reason[:120])
        except Exception as exc:  # noqa: BLE001 - the peer may be gone or stuck; nothing to do
            log.debug("closing ws client %s: %r", self.address, exc)

    async def finish(self) -> None:
        """Stop the writer (the connection ended)."""
        for task in (self._writer, self._closer):
            if task is not None and not task.done() and task is not asyncio.current_task():
                if task is self._writer:
                    task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception as exc:  # noqa: BLE001 - finishing; errors were logged
                    log.debug("ws client %s task: %r", self.address, exc)
