"""Opaque pagination cursors: the sort key of the last item, tagged with the list it belongs to."""

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Final

import msgspec

from cryptohub.gateway.api.problems import ProblemError

__all__ = ["decode_cursor", "encode_cursor"]

_MAX_LEN: Final = 512
_encoder: Final = msgspec.json.Encoder()


class _Cursor(msgspec.Struct, array_like=True, frozen=True):
    list_name: str
    key: list[str | int | float | bool | None]


def encode_cursor(list_name: str, *key: str | int | float | datetime | None) -> str:
    """A cursor that resumes `list_name` after the item whose sort key is `key`."""
    parts = [k.isoformat() if isinstance(k, datetime) else k for k in key]
    return base64.urlsafe_b64encode(_encoder.encode(_Cursor(list_name, parts))).decode().rstrip("=")


def decode_cursor(list_name: str, cursor: str, kinds: tuple[type, ...]) -> list[Any]:
    """The key in `cursor`, each part converted to `kinds` (datetime parts from ISO text, uuid
    parts to their canonical text).

    Anything else (not ours, from another list, tampered) is a 400, never a 500.
    """
    if len(cursor) > _MAX_LEN:
        raise ProblemError(400, "malformed cursor: too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise ProblemError(
            400, "malformed cursor: pass back the next_cursor of a response"
        ) from exc
    if decoded.list_name != list_name or len(decoded.key) != len(kinds):
        raise ProblemError(400, "malformed cursor: it belongs to another list")
    key: list[Any] = []
    for part, kind in zip(decoded.key, kinds, strict=True):
        key.append(_convert(part, kind))
    return key


def _convert(part: object, kind: type) -> Any:
    if kind is datetime and isinstance(part, str):
        try:
            moment = datetime.fromisoformat(part)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    if kind is int and type(part) is int and -(2**63) <= part < 2**63:
        return part
    if kind is str and isinstance(part, str) and "\x00" not in part:
        return part
    if kind is uuid.UUID and isinstance(part, str):
        try:
            return str(uuid.UUID(part))
        except ValueError:
            pass
    raise ProblemError(400, "malformed cursor: pass back the next_cursor of a response")
