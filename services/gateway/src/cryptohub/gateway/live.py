"""The latest event of every subject (and of every source on it), in memory for fast reads."""

import functools
import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from cryptohub.gateway.feed import FeedMessage

__all__ = ["LiveState", "subject_matches"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@functools.lru_cache(maxsize=1024)
def _matcher(pattern: str) -> Callable[[str], bool]:
    wanted = tuple(pattern.split("."))
    if ">" in wanted[:-1]:
        raise ValueError(f"'>' may only end a subject pattern, got {pattern!r}")
    tail = wanted[-1] == ">"
    head = wanted[:-1] if tail else wanted

    def match(subject: str) -> bool:
        tokens = subject.split(".")
        if tail:
            if len(tokens) <= len(head):
                return False
        elif len(tokens) != len(head):
            return False
        return all(want in ("*", token) for want, token in zip(head, tokens, strict=False))

    return match


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS matching: `*` is exactly one token, a final `>` one or more."""
    return _matcher(pattern)(subject)


class LiveState:
    """Latest message per subject and per (subject, source), fed by the live feed.

    Only ever moves forward: a message older than what is held for its subject and source (by
    `observed_at`, then stream sequence) is ignored, so warming from PostgreSQL after the feed
    started, or a redelivered message, cannot replace newer data.
    """

    def __init__(self) -> None:
        self._latest: dict[str, FeedMessage] = {}
        self._by_source: dict[str, dict[str, FeedMessage]] = {}
        # pattern -> its subjects, sorted; cleared whenever a new subject appears (rare).
        self._matches: dict[str, list[str]] = {}
        # Values derived from the state (see `derived`), valid until the next change.
        self._derived: dict[str, object] = {}

    def __len__(self) -> int:
        return len(self._latest)

    def apply(self, msg: FeedMessage) -> None:
        """Take `msg` as the latest of its subject and source unless something newer is held."""
        sources = self._by_source.get(msg.subject)
        if sources is None:
            sources = self._by_source[msg.subject] = {}
            self._matches.clear()
        source = msg.event.source
        held = sources.get(source)
        if held is not None and _key(held) >= _key(msg):
            return
        sources[source] = msg
        self._derived.clear()
        current = self._latest.get(msg.subject)
        if current is None or _key(current) <= _key(msg):
            self._latest[msg.subject] = msg

    def warm(self, messages: Iterable[FeedMessage]) -> int:
        """Apply messages read back from PostgreSQL at start; how many there were."""
        count = 0
        for msg in messages:
            self.apply(msg)
            count += 1
        return count

    def derived(self, key: str, compute: Callable[["LiveState"], _T]) -> _T:
        """`compute(self)`, remembered under `key` until the state next changes (for views many
        requests read between two events, e.g. the sorted consensus prices)."""
        try:
            return self._derived[key]  # type: ignore[return-value]
        except KeyError:
            value = self._derived[key] = compute(self)
            return value

    def latest(self, subject: str) -> FeedMessage | None:
        """The newest message on `subject`, whichever source sent it."""
        return self._latest.get(subject)

    def of_source(self, subject: str, source: str) -> FeedMessage | None:
        """The newest message on `subject` from `source`."""
        sources = self._by_source.get(subject)
        return None if sources is None else sources.get(source)

    def by_source(self, subject: str) -> dict[str, FeedMessage]:
        """The newest message on `subject` from each source (a copy)."""
        return dict(self._by_source.get(subject, {}))

    def matching(self, pattern: str) -> list[FeedMessage]:
        """The newest message of every subject matching `pattern` (NATS wildcards), by subject."""
        if "*" not in pattern and ">" not in pattern:
            msg = self._latest.get(pattern)
            return [] if msg is None else [msg]
        found = self._matches.get(pattern)
        if found is None:
            match = _matcher(pattern)
            found = sorted(s for s in self._by_source if match(s))
            if len(self._matches) >= 1024:
                self._matches.clear()
            self._matches[pattern] = found
        latest = self._latest
        return [latest[s] for s in found if s in latest]


def _key(msg: FeedMessage) -> tuple[object, ...]:
    return (msg.event.observed_at, msg.published_at, msg.seq)
