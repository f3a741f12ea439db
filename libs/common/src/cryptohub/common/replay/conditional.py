"""Conditional GET: strong ETags, Last-Modified, and when a request earns a 304."""

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime


def http_date(moment: datetime) -> str:
    """`Sun, 06 Nov 1994 08:49:37 GMT` (an aware datetime in, GMT out)."""
    return format_datetime(moment, usegmt=True)


def not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags  # weak comparison, as If-None-Match requires
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored
    if since.tzinfo is None:
        return False
    return last_modified <= since
