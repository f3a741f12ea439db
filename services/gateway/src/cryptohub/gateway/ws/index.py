"""Who subscribed to what: subscribers per pattern, and the patterns of each subject, cached."""

from collections.abc import Collection
from typing import Final, Generic, TypeVar

from cryptohub.gateway.ws.channels import matcher

__all__ = ["SubscriptionIndex"]

T = TypeVar("T")

_CACHE_LIMIT: Final = 100_000


class SubscriptionIndex(Generic[T]):
    """Subscribers per subject pattern; a subject's matching patterns are computed once and cached
    until the set of patterns changes, so dispatch costs the matching subscribers, not every
    client's every pattern."""

    def __init__(self) -> None:
        self._by_pattern: dict[str, set[T]] = {}
        self._patterns_of: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._by_pattern)

    def add(self, pattern: str, subscriber: T) -> None:
        subs = self._by_pattern.get(pattern)
        if subs is None:
            subs = self._by_pattern[pattern] = set()
            self._patterns_of.clear()
        subs.add(subscriber)

    def remove(self, pattern: str, subscriber: T) -> None:
        subs = self._by_pattern.get(pattern)
        if subs is None:
            return
        subs.discard(subscriber)
        if not subs:
            del self._by_pattern[pattern]
            self._patterns_of.clear()

    def patterns(self, subject: str) -> tuple[str, ...]:
        """The subscribed patterns `subject` matches."""
        found = self._patterns_of.get(subject)
        if found is None:
            found = tuple(p for p in self._by_pattern if matcher(p)(subject))
            if len(self._patterns_of) >= _CACHE_LIMIT:
                self._patterns_of.clear()
            self._patterns_of[subject] = found
        return found

    def subscribers(self, subject: str) -> Collection[T]:
        """Everyone subscribed to a pattern `subject` matches, each once."""
        patterns = self.patterns(subject)
        if not patterns:
            return ()
        if len(patterns) == 1:
            return self._by_pattern[patterns[0]]
        merged: set[T] = set()
        for pattern in patterns:
            merged.update(self._by_pattern[pattern])
        return merged
