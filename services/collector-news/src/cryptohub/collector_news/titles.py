"""Near-identical headlines: a fingerprint per title and an index of recent ones to match."""

import bisect
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from rapidfuzz import fuzz, process

__all__ = ["RecentTitles", "TitleEntry", "fingerprint", "near_identical"]

# Below this length two fingerprints must be equal to match: in short headlines one word is
# the whole difference ("Bitcoin rises" / "Bitcoin falls").
_FUZZY_MIN_LENGTH: Final = 24
_SAME_WORD_SCORE: Final = 75.0
_MAX_ADDED_WORDS: Final = 2


def fingerprint(title: str) -> str:
    """Lower case, accents, punctuation and spacing gone: what is left of a headline's wording."""
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    kept = [ch if ch.isalnum() else " " for ch in decomposed if unicodedata.category(ch) != "Mn"]
    return " ".join("".join(kept).split())


@dataclass(frozen=True, slots=True)
class TitleEntry:
    article_id: str
    fingerprint: str
    published: datetime


def _leftovers(first: list[str], second: list[str]) -> tuple[list[str], list[str]]:
    """Words of each title with no equal or near-equal (plural, typo) word in the other."""
    rest_first = list((Counter(first) - Counter(second)).elements())
    rest_second = list((Counter(second) - Counter(first)).elements())
    unmatched: list[str] = []
    for word in rest_first:
        partner = next(
            (
                other
                for other in rest_second
                if min(len(word), len(other)) >= 3 and fuzz.ratio(word, other) >= _SAME_WORD_SCORE
            ),
            None,
        )
        if partner is None:
            unmatched.append(word)
        else:
            rest_second.remove(partner)
    return unmatched, rest_second


def near_identical(first: str, second: str, *, similarity: float = 0.9) -> bool:
    """Whether two title fingerprints say the same thing in (almost) the same words.

    Equal; or both 24+ characters, a normalised edit similarity of at least `similarity`, no
    word of one replaced by a different word in the other ("rises" / "falls", "5" / "10"), and
    at most two words added ("the", "a"). Plurals and typos count as the same
    word.
    """
    if first == second:
        return True
    if min(len(first), len(second)) < _FUZZY_MIN_LENGTH:
        return False
    if fuzz.ratio(first, second) < similarity * 100.0:
        return False
    only_first, only_second = _leftovers(first.split(), second.split())
    if only_first and only_second:
        return False
    return len(only_first) + len(only_second) <= _MAX_ADDED_WORDS


class RecentTitles:
    """Titles published lately; finds one near-identical to a new title within a time window.

    Near-identical as `near_identical` says, with publish times no further apart than `window`.
    Exact fingerprints are a dict lookup; fuzzy candidates are the long fingerprints kept sorted
    by publish time, so a lookup only scores the titles inside the window.
    """

    def __init__(self, *, window: timedelta, similarity: float, keep: timedelta) -> None:
        self.window = window
        self.cutoff = similarity * 100.0
        self.keep = keep
        self._by_id: dict[str, TitleEntry] = {}
        self._exact: dict[str, set[str]] = {}
        # Entries with fingerprints long enough for fuzzy matching, sorted by publish time.
        self._times: list[datetime] = []
        self._long: list[TitleEntry] = []
        self._long_fingerprints: list[str] = []

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, article_id: str) -> TitleEntry | None:
        return self._by_id.get(article_id)

    def add(self, entry: TitleEntry) -> None:
        self.discard(entry.article_id)
        self._by_id[entry.article_id] = entry
        self._exact.setdefault(entry.fingerprint, set()).add(entry.article_id)
        if len(entry.fingerprint) >= _FUZZY_MIN_LENGTH:
            at = bisect.bisect_right(self._times, entry.published)
            self._times.insert(at, entry.published)
            self._long.insert(at, entry)
            self._long_fingerprints.insert(at, entry.fingerprint)

    def discard(self, article_id: str) -> None:
        entry = self._by_id.pop(article_id, None)
        if entry is None:
            return
        same = self._exact.get(entry.fingerprint)
        if same is not None:
            same.discard(article_id)
            if not same:
                del self._exact[entry.fingerprint]
        if len(entry.fingerprint) >= _FUZZY_MIN_LENGTH:
            lo = bisect.bisect_left(self._times, entry.published)
            hi = bisect.bisect_right(self._times, entry.published)
            for at in range(lo, hi):
                if self._long[at] is entry:
                    del self._times[at], self._long[at], self._long_fingerprints[at]
                    break

    def prune(self, now: datetime) -> None:
        """Forget titles published more than `keep` before `now`."""
        oldest = now - self.keep
        for article_id in [k for k, e in self._by_id.items() if e.published < oldest]:
            self.discard(article_id)

    def match(self, title_fingerprint: str, published: datetime) -> TitleEntry | None:
        """A recent entry near-identical to `title_fingerprint`, or None."""
        if not title_fingerprint:
            return None
        for article_id in self._exact.get(title_fingerprint, ()):
            entry = self._by_id[article_id]
            if abs(entry.published - published) <= self.window:
                return entry
        if len(title_fingerprint) < _FUZZY_MIN_LENGTH:
            return None
        lo = bisect.bisect_left(self._times, published - self.window)
        hi = bisect.bisect_right(self._times, published + self.window)
        best = process.extract(
            title_fingerprint,
            self._long_fingerprints[lo:hi],
            scorer=fuzz.ratio,
            score_cutoff=self.cutoff,
            limit=5,
        )
        for _, _, index in best:
            entry = self._long[lo + index]
            if near_identical(title_fingerprint, entry.fingerprint, similarity=self.cutoff / 100):
                return entry
        return None
