"""The WebSocket hub: every connection of this replica, fan-out of the live feed, housekeeping."""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import nats.errors
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.handlers import WebsocketRouteHandler
from nats.js import JetStreamContext

from cryptohub.common.streams import STREAMS, StreamSpec
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.ws import codes, metrics
from cryptohub.gateway.ws.client import Client
from cryptohub.gateway.ws.config import WsConfig
from cryptohub.gateway.ws.frames import control, data_frame
from cryptohub.gateway.ws.index import SubscriptionIndex
from cryptohub.gateway.ws.master import ALIASES, MasterRelay, MasterSession
from cryptohub.gateway.ws.session import StreamSession, entry_for

__all__ = ["WebSocketHub"]

log = logging.getLogger(__name__)

AnySocket = WebSocket[Any, Any, Any]


class WebSocketHub:
    """Serves `/ws` and `/ws/master` (and the old hub's aliases) for one gateway replica.

    `on_feed` is the live feed's listener: it finds the subscribers of a subject through the
    subscription index, builds the frame once and queues it on each subscriber's outbox; it
    never blocks. One writer task per connection sends; one housekeeping task pings clients,
    closes those too slow for too long, and sends the old hub's periodic snapshots.
    """

    def __init__(
        self,
        config: WsConfig,
        live: LiveState,
        js: JetStreamContext,
        *,
        streams: Iterable[StreamSpec] = STREAMS,
    ) -> None:
        self.config = config
        self.live = live
        self.js = js
        self.streams = {spec.name: spec for spec in streams}
        self.index: SubscriptionIndex[StreamSession] = SubscriptionIndex()
        self.master = MasterRelay(
            live, news_items=config.master_news_items, intervals=config.master_intervals_s
        )
        self._clients: set[Client] = set()
        self._per_address: Counter[str] = Counter()
        self._ticker: asyncio.Task[None] | None = None
        self._accepting = True

    # --- lifecycle

    async def start(self) -> None:
        self._accepting = True
        await self.master.warm(self.js, self.streams)
        self._ticker = asyncio.create_task(self._housekeeping(), name="ws-housekeeping")

    async def stop(self) -> None:
        """Close every connection (1001, going away) and stop housekeeping."""
        self._accepting = False
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        clients = list(self._clients)
        for client in clients:
            client.close_soon(codes.GOING_AWAY, "going away: the gateway is shutting down")
        await asyncio.gather(*(c.finish() for c in clients), return_exceptions=True)

    def connection_count(self) -> int:
        return len(self._clients)

    # --- the live feed

    def on_feed(self, msg: FeedMessage) -> None:
        """Queue `msg` for its subscribers (synchronous, non-blocking)."""
        subscribers = self.index.subscribers(msg.subject)
        if subscribers:
            entry = entry_for(msg, data_frame(msg))
            for session in subscribers:
                session.deliver(entry)
        self.master.on_feed(msg)

    def snapshot(self, patterns: list[str]) -> list[FeedMessage]:
        """The latest message of every subject and source matching `patterns`, oldest first
        within each stream (so the highest `seq` received is a safe resume position)."""
        seen: dict[tuple[str, str], FeedMessage] = {}
        for pattern in patterns:
            for latest in self.live.matching(pattern):
                for source, msg in self.live.by_source(latest.subject).items():
                    seen[msg.subject, source] = msg
        return sorted(seen.values(), key=lambda m: (m.stream, m.seq, m.subject))

    async def last_seq(self, stream: str) -> int | None:
        """The stream's last sequence now (None when JetStream cannot say)."""
        try:
            info = await self.js.stream_info(stream)
        except (TimeoutError, nats.errors.Error) as exc:
            log.warning("ws resume: stream %s info failed: %s", stream, exc)
            return None
        return int(info.state.last_seq)

    # --- connections

    def route_handlers(self) -> list[WebsocketRouteHandler]:
        """`/ws` and the old hub's WebSocket paths, for the Litestar app."""
        hub = self

        @websocket("/ws", name="ws_stream")
        async def ws_stream(socket: AnySocket) -> None:
            await hub.serve(socket, "ws")

        @websocket(list(ALIASES), name="ws_master")
        async def ws_master(socket: AnySocket) -> None:
            await hub.serve(socket, "master")

        return [ws_stream, ws_master]

    def _origin_allowed(self, socket: AnySocket) -> bool:
        allowed = self.config.allowed_origins
        origin = socket.headers.get("origin")
        return not allowed or origin is None or origin in allowed

    async def serve(self, socket: AnySocket, endpoint: str) -> None:
        """Run one connection from handshake to close."""
        address = socket.client.host if socket.client else "unknown"
        if not self._origin_allowed(socket):
            metrics.closed.labels("origin").inc()
            log.info("ws: refused origin %r from %s", socket.headers.get("origin"), address)
            await socket.close(codes.ORIGIN_REFUSED, "origin not allowed")  # before accept: 403
            return
        try:
            await socket.accept()
        except (WebSocketDisconnect, OSError):
            return  # gone during the handshake
        if not self._accepting:
            await socket.close(codes.GOING_AWAY, "going away: the gateway is shutting down")
            return
        if self._per_address[address] >= self.config.max_connections_per_ip:
            metrics.closed.labels("too_many_connections").inc()
            await socket.close(
                codes.TOO_MANY_CONNECTIONS,
                f"too many connections from your address (limit "
                f"{self.config.max_connections_per_ip})",
            )
            return
        self._per_address[address] += 1
        client: StreamSession | MasterSession
        handle: Callable[[str | bytes], Awaitable[None] | None]
        if endpoint == "ws":
            client = StreamSession(self, socket, address=address)
            handle = client.handle
            client.reply(
                control(
                    "welcome",
                    heartbeat_s=self.config.heartbeat_interval_s,
                    limits={
                        "max_message_bytes": self.config.max_message_bytes,
                        "max_subscriptions": self.config.max_subscriptions,
                        "queue_size": self.config.queue_size,
                    },
                    streams=sorted(self.streams),
                )
            )
        else:
            client = MasterSession(
                self.master, socket, address=address, capacity=self.config.queue_size
            )
            self.master.sessions.add(client)
            handle = client.handle
            client.greet(socket.scope["path"])
        self._clients.add(client)
        metrics.connections.labels(endpoint).inc()
        client.start()
        try:
            await self._read(client, handle)
        finally:
            if isinstance(client, StreamSession):
                client.forget()
            else:
                self.master.forget(client)
            self._clients.discard(client)
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]
            metrics.connections.labels(endpoint).dec()
            await client.finish()

    async def _read(
        self, client: Client, handle: Callable[[str | bytes], Awaitable[None] | None]
    ) -> None:
        limit = self.config.max_message_bytes
        receive = client.socket.receive
        while client.close_code is None:
            try:
                event = await receive()
            except WebSocketDisconnect:
                return
            if event["type"] != "websocket.receive":
                return
            data: str | bytes | None = event.get("text")
            if data is None:
                data = event.get("bytes") or b""
            client.last_heard = time.monotonic()
            size = len(data) if isinstance(data, bytes) else len(data.encode())
            if size > limit:
                client.close_soon(
                    codes.MESSAGE_TOO_BIG, f"message too big: {size} bytes, limit {limit}"
                )
                return
            try:
                result = handle(data)
                if result is not None:
                    await result
            except Exception:
                # A defect of ours: say so to the client, keep the connection and the gateway.
                log.exception("ws: handling a client message failed")
                client.reply(control("error", code="internal_error", message="internal error"))

    # --- housekeeping

    def _tick_seconds(self) -> float:
        c = self.config
        return max(0.05, min(1.0, c.slow_client_grace_s / 4, c.heartbeat_interval_s / 4))

    async def _housekeeping(self) -> None:
        period = self._tick_seconds()
        while True:
            await asyncio.sleep(period)
            try:
                self._sweep(time.monotonic())
                self.master.tick(time.monotonic())
            except Exception:
                log.exception("ws housekeeping failed; carrying on")

    def _sweep(self, now: float) -> None:
        c = self.config
        for client in list(self._clients):
            if client.close_code is not None:
                continue
            behind = client.outbox.behind_since
            if behind is not None and now - behind > c.slow_client_grace_s:
                client.close_soon(
                    codes.SLOW_CONSUMER,
                    f"slow consumer: behind for more than {c.slow_client_grace_s:g} s",
                )
                continue
            if not isinstance(client, StreamSession):
                continue
            if now - client.last_heard > c.heartbeat_interval_s + c.heartbeat_timeout_s:
                client.close_soon(
                    codes.HEARTBEAT_TIMEOUT,
                    f"heartbeat timeout: no frame {c.heartbeat_timeout_s:g} s after a ping",
                )
            elif now - client.last_ping >= c.heartbeat_interval_s:
                client.last_ping = now
                client.reply(control("ping"))
