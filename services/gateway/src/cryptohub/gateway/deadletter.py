"""Parks a message no consumer can read on the dead-letter subject, with the reason in headers."""

import logging
from typing import Final

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from cryptohub.common import subjects
from cryptohub.common.streams import DEADLETTER, ensure_streams
from cryptohub.gateway import metrics

__all__ = ["DeadLetters"]

log = logging.getLogger(__name__)

_REASON_MAX: Final = 500


class DeadLetters:
    """Publishes unreadable messages to `cryptohub.v1.deadletter.<stream>` (stream DEADLETTER).

    The original bytes travel unchanged; headers say where they came from and why they were
    refused. The `Nats-Msg-Id` is the original's stream and sequence, so a message dead-lettered
    twice (redelivered before its ack landed) is stored once.
    """

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def prepare(self) -> None:
        await ensure_streams(self._js, streams=(DEADLETTER,))

    async def park(self, msg: Msg, reason: str) -> None:
        """Store `msg` as a dead letter; raises (and the caller must not ack) if NATS refuses."""
        meta = msg.metadata
        stream, seq = meta.stream, meta.sequence.stream
        headers = {
            "Nats-Msg-Id": f"{stream}:{seq}",
            "CryptoHub-Original-Subject": msg.subject,
            "CryptoHub-Original-Stream": stream,
            "CryptoHub-Original-Sequence": str(seq),
            "CryptoHub-Reason": _header_safe(reason),
        }
        await self._js.publish(
            subjects.dead_letter(stream), msg.data, stream=DEADLETTER.name, headers=headers
        )
        metrics.dead_letters.labels(stream).inc()
        log.warning("dead-lettered %s seq %d from %s: %s", msg.subject, seq, stream, reason)


def _header_safe(text: str) -> str:
    """A header value: one line, printable, bounded."""
    flat = "".join(ch if ch.isprintable() else " " for ch in text)
    return flat[:_REASON_MAX] or "unknown"
