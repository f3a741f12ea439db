"""The text a model reads for an article: title and summary, plain, bounded in length."""

import html
import re
from dataclasses import dataclass
from typing import Final

from cryptohub.common.events import Article
from cryptohub.sentiment.errors import RejectedArticleError

__all__ = ["ArticleText", "article_text"]

_TAG: Final = re.compile(r"<[^>]{0,2000}>")
_SPACE: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ArticleText:
    text: str
    truncated: bool


def _plain(raw: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", raw))).strip()


def article_text(article: Article, *, max_chars: int) -> ArticleText:
    """Title, then the summary, as plain text cut to `max_chars` (on a word boundary when one
    is near). The tokenizer truncates again to the model's max length; cutting first bounds
    the work a huge body costs. RejectedArticleError when nothing readable is left."""
    title = _plain(article.title)
    summary = _plain(article.summary)
    if title and summary:
        text = f"{title}{'' if title[-1] in '.!?:' else '.'} {summary}"
    else:
        text = title or summary
    if not text:
        raise RejectedArticleError("empty", f"article {article.id!r} has no readable title or text")
    if len(text) <= max_chars:
        return ArticleText(text, truncated=False)
    cut = text[:max_chars]
    space = cut.rfind(" ", max_chars * 3 // 4)
    return ArticleText(cut[:space] if space > 0 else cut, truncated=True)
