"""Which assets a text mentions: cashtags, upper-case tickers and names from the asset list."""

import re
from collections.abc import Iterable
from typing import Final

from cryptohub.collector_news.assets import ASSETS, Asset, Bare

__all__ = ["SymbolTagger", "tag_symbols"]

_CASHTAG: Final = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{1,9})(?!\w)")
_UPPER_TOKEN: Final = re.compile(r"(?<![\w$])([A-Z][A-Z0-9]{1,9})(?!\w)")
# A text whose letters are mostly capitals shouts: its words are not tickers.
_SHOUTING_SHARE: Final = 0.7
_SHOUTING_MIN_LETTERS: Final = 8


def _alternation(names: Iterable[str], flags: int) -> re.Pattern[str] | None:
    ordered = sorted(set(names), key=len, reverse=True)  # the longest name wins at a position
    if not ordered:
        return None
    body = "|".join(re.escape(name) for name in ordered)
    return re.compile(rf"(?<![\w$])(?:{body})(?!\w)", flags)


def _shouting(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < _SHOUTING_MIN_LETTERS:
        return False
    return sum(ch.isupper() for ch in letters) / len(letters) >= _SHOUTING_SHARE


class SymbolTagger:
    """Finds the assets of `assets` in free text; see `assets` for the rules."""

    def __init__(self, assets: Iterable[Asset] = ASSETS) -> None:
        self._by_ticker: dict[str, Asset] = {}
        self._by_name: dict[str, Asset] = {}
        self._by_proper_name: dict[str, Asset] = {}
        for asset in assets:
            for ticker in asset.tickers:
                self._by_ticker[ticker.upper()] = asset
            for name in asset.names:
                self._by_name[name.lower()] = asset
            for name in asset.proper_names:
                self._by_proper_name[name] = asset
        self._names = _alternation(self._by_name, re.IGNORECASE)
        self._proper_names = _alternation(self._by_proper_name, 0)

    def tag(self, *texts: str) -> tuple[str, ...]:
        """Lower-case symbols mentioned in any of `texts`, sorted."""
        found: set[str] = set()
        for text in texts:
            if text:
                found |= self._tag_one(text)
        return tuple(sorted(found))

    def _tag_one(self, text: str) -> set[str]:
        found: set[str] = set()
        taken: list[tuple[int, int]] = []
        if self._names is not None:
            for match in self._names.finditer(text):
                found.add(self._by_name[match.group(0).lower()].symbol)
                taken.append(match.span())
        if self._proper_names is not None:
            for match in self._proper_names.finditer(text):
                start, end = match.span()
                if not any(s < end and start < e for s, e in taken):
                    found.add(self._by_proper_name[match.group(0)].symbol)
        for match in _CASHTAG.finditer(text):
            asset = self._by_ticker.get(match.group(1).upper())
            if asset is not None:
                found.add(asset.symbol)
        shouting: bool | None = None
        for match in _UPPER_TOKEN.finditer(text):
            asset = self._by_ticker.get(match.group(1))
            if asset is None or asset.bare is Bare.NEVER:
                continue
            if asset.bare is Bare.MIXED_CASE:
                if shouting is None:
                    shouting = _shouting(text)
                if shouting:
                    continue
            found.add(asset.symbol)
        return found


_DEFAULT: Final = SymbolTagger()


def tag_symbols(*texts: str) -> tuple[str, ...]:
    """Symbols from the maintained asset list mentioned in `texts` (see `SymbolTagger`)."""
    return _DEFAULT.tag(*texts)
