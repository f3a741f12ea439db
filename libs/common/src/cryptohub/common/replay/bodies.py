"""Synthetic bodies that faults serve in place of recorded ones."""

from collections.abc import Iterator

import msgspec

GARBAGE = b"\xff\xfe\x00<<\x8b\x1f not json, not xml \x00{]\x9d\xc3("
"""Bytes no JSON or XML parser accepts (and not UTF-8 either)."""

_JSON_SHAPE = (b"[", b"0,", b"0]")
_XML_SHAPE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
    b"<item><title>padding</title></item>",
    b"</channel></rss>\n",
)


def error_body(status: int, message: str) -> bytes:
    """The small JSON body of an injected or replay error: `{"error": ..., "status": ...}`."""
    return msgspec.json.encode({"error": message, "status": status})


def oversize_chunks(size: int, content_type: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Exactly `size` bytes of a well-formed JSON array (or RSS document), in chunks."""
    head, unit, tail = _XML_SHAPE if "xml" in content_type else _JSON_SHAPE
    if size < len(head) + len(tail):
        if size:
            yield b" " * size
        return
    units, spaces = divmod(size - len(head) - len(tail), len(unit))
    yield head + b" " * spaces  # whitespace is legal between tokens in both
    per_chunk = max(1, chunk_size // len(unit))
    while units:
        count = min(units, per_chunk)
        yield unit * count
        units -= count
    yield tail
