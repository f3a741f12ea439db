"""Where a JetStream message sits (stream, sequence, store time), read from its reply subject.

nats-py's `Msg.metadata` builds dataclasses and a datetime per message; on the hot paths (the
live feed, persistence) only three fields are needed, so they are split out of the reply
subject directly: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>`, or
with a domain and account hash after `ACK` (the v2 form).
"""

from typing import NamedTuple

__all__ = ["Position", "position_of"]


class Position(NamedTuple):
    stream: str
    seq: int
    stored_ns: int  # when JetStream stored it, ns since the epoch


def position_of(reply: str) -> Position:
    """The position in a JetStream ack subject; ValueError if `reply` is not one."""
    tokens = reply.split(".")
    count = len(tokens)
    if count < 9 or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise ValueError(f"not a JetStream reply subject: {reply!r}")
    if count == 9:
        return Position(tokens[2], int(tokens[5]), int(tokens[7]))
    if count >= 11:
        return Position(tokens[4], int(tokens[7]), int(tokens[9]))
    raise ValueError(f"not a JetStream reply subject: {reply!r}")
