"""HTML stripping and entity decoding of titles and summaries."""

import pytest

from cryptohub.collector_news.markup import clip, to_plain_text


@pytest.mark.parametrize(
    ("raw", "text", "had_markup"),
    [
        ("<b>Bitcoin</b> hits <i>new</i> high", "Bitcoin hits new high", True),
        ("Bitcoin&#8217;s rally &amp; the Fed", "Bitcoin\u2019s rally & the Fed", False),
        ("Bitcoin&amp;#8217;s rally", "Bitcoin\u2019s rally", False),  # escaped twice
        ("&lt;b&gt;Escaped&lt;/b&gt; headline", "Escaped headline", True),
        ("<p>One</p><p>Two</p>", "One Two", True),
        ("Line<br/>break", "Line break", True),
        ('<img src="x.jpg" /><p>Caption text</p>', "Caption text", True),
        ("<script>alert(1)</script>Safe text", "Safe text", True),
        ("<style>p{}</style>Styled", "Styled", True),
        ("  spaced \n\t out  ", "spaced out", False),
        ("zero\u200bwidth\u00adsoft", "zerowidthsoft", False),
        ("BTC &lt; $50k", "BTC < $50k", False),
        ("a < b and c > d", "a < b and c > d", False),
        ("", "", False),
    ],
)
def test_plain_text(raw: str, text: str, had_markup: bool) -> None:
    cleaned = to_plain_text(raw)
    assert cleaned.text == text
    assert cleaned.had_markup is had_markup


def test_clip_cuts_at_a_word_and_marks_the_cut() -> None:
    assert clip("short", 10) == "short"
    clipped = clip("one two three four five six", 14)
    assert clipped == "one two three…"
    assert len(clipped) <= 14
