"""Batches from a durable JetStream pull consumer, without nats-py's per-message `fetch` overhead.

nats-py's `PullSubscription.fetch` waits for each message with `asyncio.wait_for` (a task per
message); at tens of thousands of messages a second that costs more than everything else the
persister does. Here one core subscription with a callback collects the messages delivered to
our reply subject, and each `next_batch` sends one pull request (`batch`, `expires`): the server
answers with up to `batch` messages within `expires`, then a status message that ends the
request. Messages that arrive after a request ended locally are kept for the next batch, never
dropped (and if this replica dies they are redelivered after the consumer's ack wait).
"""

import asyncio
import contextlib
import json
import logging
from typing import Final

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

__all__ = ["PullConsumer"]

log = logging.getLogger(__name__)

_STATUS: Final = "Status"
# Margin over `expires` before a request is given up locally (server gone, reply lost).
_GRACE_S: Final = 1.0


class PullConsumer:
    """Pull batches from `stream`/`durable` (the consumer must exist)."""

    def __init__(self, nc: Client, stream: str, durable: str) -> None:
        self._nc = nc
        self._request_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = ""
        self._sub: Subscription | None = None
        self._buffer: list[Msg] = []
        self._wanted = 0
        self._done = asyncio.Event()

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(
            self._inbox, cb=self._on_msg, pending_msgs_limit=0, pending_bytes_limit=0
        )

    async def stop(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def next_batch(self, batch: int, expires_s: float) -> list[Msg]:
        """Up to `batch` messages: as soon as `batch` are here, or when `expires_s` has passed
        (an empty list if none came)."""
        if len(self._buffer) < batch:
            self._wanted = batch
            self._done.clear()
            request = {"batch": batch - len(self._buffer), "expires": int(expires_s * 1e9)}
            await self._nc.publish(
                self._request_subject, json.dumps(request).encode(), reply=self._inbox
            )
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that arrives while the
            # wait is ending (a status message every `expires_s`), and the persister never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(expires_s + _GRACE_S):
                    await self._done.wait()
        taken, self._buffer = self._buffer[:batch], self._buffer[batch:]
        return taken

    async def _on_msg(self, msg: Msg) -> None:
        headers = msg.headers
        if headers is not None and _STATUS in headers and not msg.data:
            status = headers[_STATUS]
            # 408: request expired; 404: no messages; 409: e.g. max waiting, consumer deleted.
            if status not in ("408", "404", "100"):
                log.warning(
                    "pull request on %s ended with status %s %s",
                    self._request_subject,
                    status,
                    headers.get("Description", ""),
                )
            if status != "100":
                self._done.set()
            return
        self._buffer.append(msg)
        if len(self._buffer) >= self._wanted:
            self._done.set()
