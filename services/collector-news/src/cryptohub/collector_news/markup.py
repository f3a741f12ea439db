"""Plain text out of the HTML that feeds put in titles and summaries, entities decoded."""

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final

__all__ = ["CleanText", "clip", "to_plain_text"]

# Elements whose content is not text a reader sees.
_HIDDEN: Final = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
# Elements that separate words: their boundaries become spaces.
_BREAKING: Final = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "section",
        "article",
        "figure",
        "figcaption",
        "img",
        "hr",
    }
)
# What is left after one decoding pass that still looks like markup or an entity: feeds often
# escape their HTML twice (`&amp;lt;b&amp;gt;`, `&amp;#8217;`).
_STILL_MARKED_UP: Final = re.compile(r"<[a-zA-Z/!]|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
_INVISIBLE: Final = re.compile("[\u200b-\u200f\u2028\u2029\u2060\ufeff\u00ad]")


@dataclass(frozen=True, slots=True)
class CleanText:
    """Text with markup removed; `had_markup` says whether any tag was taken out."""

    text: str
    had_markup: bool


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.saw_tag = False
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.saw_tag = True
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in _BREAKING:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.saw_tag = True
        if tag in _BREAKING:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.saw_tag = True
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BREAKING:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.saw_tag = True


def _strip_once(text: str) -> tuple[str, bool]:
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    return "".join(collector.parts), collector.saw_tag


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zs", "Zl", "Zp") else ch for ch in text
    )
    return " ".join(text.split())


def to_plain_text(raw: str) -> CleanText:
    """Tags removed, entities decoded (twice-escaped ones too), whitespace collapsed."""
    if "<" not in raw and "&" not in raw:
        return CleanText(_tidy(raw), had_markup=False)
    text, saw_tag = _strip_once(raw)
    if _STILL_MARKED_UP.search(text):
        again, saw_again = _strip_once(text)
        text, saw_tag = again, saw_tag or saw_again
    return CleanText(_tidy(text), had_markup=saw_tag)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"
