"""The JSON frames of `/ws`: data frames built once per event, control frames, client messages."""

from datetime import UTC, datetime
from typing import Any

import msgspec

from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.ws.channels import channel_of

__all__ = [
    "ClientMessageError",
    "control",
    "data_frame",
    "format_seq",
    "parse_client_message",
    "parse_seq",
    "rfc3339",
]

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


class ClientMessageError(ValueError):
    """A client frame that is not a JSON object with an `action`; `code` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def rfc3339(moment: datetime) -> str:
    """UTC, millisecond precision, `Z`: `2025-12-13T15:18:11.123Z`."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def format_seq(stream: str, seq: int) -> str:
    """The resume position of a message: `MARKET:18342` (stream, JetStream stream sequence)."""
    return f"{stream}:{seq}"


def parse_seq(value: object) -> tuple[str, int]:
    """`MARKET:18342` -> ("MARKET", 18342); ClientMessageError if it is not one."""
    if isinstance(value, str):
        stream, sep, number = value.partition(":")
        if sep and stream.isalnum() and number.isdigit() and len(number) <= 19:
            return stream.upper(), int(number)
    raise ClientMessageError(
        "invalid_resume", f"resume positions look like 'MARKET:18342', got {value!r:.80}"
    )


def data_frame(msg: FeedMessage, *, snapshot: bool = False) -> str:
    """`{"channel", "seq", "ts", "data"}` with the event's JSON as published: encoded once, sent
    to every subscriber."""
    head = (
        f'{{"channel":"{channel_of(msg.subject)}","seq":"{format_seq(msg.stream, msg.seq)}",'
        f'"ts":"{rfc3339(msg.published_at)}",'
    )
    if snapshot:
        head += '"snapshot":true,'
    return f'{head}"data":{msg.raw.decode()}}}'


def control(kind: str, /, **fields: Any) -> str:
    """A control frame: `{"type": kind, ...fields, "ts": now}`."""
    return _encode({"type": kind, **fields, "ts": rfc3339(datetime.now(UTC))}).decode()


def parse_client_message(text: str | bytes) -> dict[str, Any]:
    """A client frame as a JSON object with a string `action`."""
    try:
        message = _decode(text)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ClientMessageError(
            "bad_request", f"a message is one JSON object with an 'action': {exc}"
        ) from exc
    action = message.get("action")
    if not isinstance(action, str):
        raise ClientMessageError("bad_request", "a message needs a string 'action'")
    return message
