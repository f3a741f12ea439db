"""Channel names and patterns of `/ws`: a subject without its `cryptohub.v1.` prefix."""

import functools
import re
from collections.abc import Callable, Iterable
from typing import Final

from cryptohub.common import subjects

__all__ = [
    "ChannelError",
    "channel_of",
    "conflation_key",
    "matcher",
    "normalise",
    "patterns_collide",
    "reduce_patterns",
    "subject_pattern",
]

_PREFIX: Final = subjects.PREFIX + "."
# Short names for subjects whose own name is long or odd; both spellings are accepted.
_ALIASES: Final = {"news": "news.article"}
_REVERSE: Final = {subject: alias for alias, subject in _ALIASES.items()}
_TOKEN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MAX_TOKENS: Final = 8
_PRICE_PREFIX: Final = subjects.all_prices().removesuffix("*")


class ChannelError(ValueError):
    """A channel pattern a client sent that is not one."""

    def __init__(self, channel: object, reason: str) -> None:
        super().__init__(f"invalid channel {channel!r}: {reason}")
        self.channel = channel
        self.reason = reason


def normalise(channel: object) -> str:
    """The canonical form of a client's channel pattern (lower-case, aliases resolved).

    Tokens are lower-case subject tokens, `*` (one token) or a final `>` (the rest).
    """
    if not isinstance(channel, str):
        raise ChannelError(channel, "a channel is a string")
    name = channel.strip().lower()
    if not name or len(name) > 256:
        raise ChannelError(channel, "empty or longer than 256 characters")
    name = _ALIASES.get(name, name)
    tokens = name.split(".")
    if len(tokens) > _MAX_TOKENS:
        raise ChannelError(channel, f"more than {_MAX_TOKENS} tokens")
    for i, part in enumerate(tokens):
        if part == "*" or (part == ">" and i == len(tokens) - 1):
            continue
        if _TOKEN.fullmatch(part) is None:
            raise ChannelError(
                channel, f"token {part!r} is not a-z, 0-9, '_', '-', '*' or a final '>'"
            )
    return name


def subject_pattern(channel: str) -> str:
    """The NATS subject (pattern) of a normalised channel."""
    return _PREFIX + channel


def channel_of(subject: str) -> str:
    """The channel a subject is delivered on: `cryptohub.v1.news.article` -> `news`."""
    name = subject.removeprefix(_PREFIX)
    return _REVERSE.get(name, name)


def conflation_key(subject: str, source: str) -> str | None:
    """Price subjects conflate per symbol and source for a slow client; others never do."""
    if subject.startswith(_PRICE_PREFIX):
        return f"{subject}|{source}"
    return None


@functools.lru_cache(maxsize=4096)
def matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate: does a subject match the NATS `pattern` (`*` one token, final `>` the rest)."""
    wanted = tuple(pattern.split("."))
    tail = wanted[-1] == ">"
    head = wanted[:-1] if tail else wanted
    size = len(head)

    def match(subject: str) -> bool:
        tokens = subject.split(".")
        if (len(tokens) <= size) if tail else (len(tokens) != size):
            return False
        return all(want in ("*", token) for want, token in zip(head, tokens, strict=False))

    return match


def _covers(wide: str, narrow: str) -> bool:
    """Whether every subject matching `narrow` matches `wide` too."""
    w, n = wide.split("."), narrow.split(".")
    for i, want in enumerate(w):
        if want == ">":
            return len(n) > i
        if i >= len(n) or n[i] == ">":
            return False
        if want != "*" and want != n[i]:
            return False
    return len(w) == len(n)


def patterns_collide(a: str, b: str) -> bool:
    """Whether some subject matches both patterns."""
    x, y = a.split("."), b.split(".")
    for i in range(max(len(x), len(y))):
        if i < len(x) and x[i] == ">":
            return len(y) > i
        if i < len(y) and y[i] == ">":
            return len(x) > i
        if i >= len(x) or i >= len(y):
            return False
        if x[i] != "*" and y[i] != "*" and x[i] != y[i]:
            return False
    return True


def reduce_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns without those another one already covers (sorted, no duplicates)."""
    unique = sorted(set(patterns))
    return [p for p in unique if not any(q != p and _covers(q, p) for q in unique)]
