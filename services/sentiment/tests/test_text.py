"""The text a model reads: plain title and summary, bounded, and nothing-to-read rejected."""

from collections.abc import Callable

import pytest

from cryptohub.common.events import Article
from cryptohub.sentiment.errors import RejectedArticleError
from cryptohub.sentiment.text import article_text


def test_title_and_summary_are_joined_as_plain_text(make_article: Callable[..., Article]) -> None:
    article = make_article(
        "Bitcoin Hovers Under $3,450",
        summary="<p><img src='x.png'>Top cryptos see &amp; losses</p>",
    )
    text = article_text(article, max_chars=2000)
    assert text.text == "Bitcoin Hovers Under $3,450. Top cryptos see & losses"
    assert not text.truncated


def test_huge_body_is_cut_on_a_word_boundary(make_article: Callable[..., Article]) -> None:
    article = make_article("Title", summary="word " * 200_000)
    text = article_text(article, max_chars=2000)
    assert text.truncated
    assert len(text.text) <= 2000
    assert text.text.endswith("word")


def test_article_with_only_markup_is_rejected(make_article: Callable[..., Article]) -> None:
    article = make_article("   ", summary="<br/> <img src='a.png'/>")
    with pytest.raises(RejectedArticleError) as caught:
        article_text(article, max_chars=2000)
    assert caught.value.reason == "empty"
