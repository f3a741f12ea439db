"""Canonical article URLs and the ids derived from them, so one story has one identity."""

import hashlib
import re
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "article_id", "canonical_url"]

# Query parameters that only say how a reader arrived (campaigns, click ids, share widgets).
TRACKING_PREFIXES: Final = ("utm_", "mtm_", "pk_", "hsa_", "vero_", "at_", "oly_")
TRACKING_PARAMS: Final = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "rb_clickid",
        "s_cid",
        "ncid",
        "cmpid",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "sr_share",
        "spm",
        "share",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "__twitter_impression",
        "_ga",
        "_gl",
    }
)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_PERCENT_ESCAPE: Final = re.compile(r"%[0-9a-fA-F]{2}")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _upper_escapes(text: str) -> str:
    return _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), text)


def canonical_url(raw: str) -> str | None:
    """The canonical form of an http(s) article URL, or None if `raw` is not one.

    Scheme and host lower-cased, default port, credentials, tracking parameters and the fragment
    dropped, the remaining query sorted, percent-escapes upper-cased, an empty path made `/`.
    """
    text = raw.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    )
    path = _upper_escapes(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def article_id(canonical: str) -> str:
    """32 hex chars identifying the story at `canonical`.

    The scheme and a trailing slash are left out, so `http://` and `https://` copies of a link,
    or `/story` and `/story/`, are the same story.
    """
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/") or "/"
    key = urlunsplit(("", parts.netloc, path, parts.query, ""))
    return hashlib.sha256(key.encode()).hexdigest()[:32]
