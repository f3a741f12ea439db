"""URL canonicalisation: table cases and properties that hold for any URL."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptohub.collector_news.canonical import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    article_id,
    canonical_url,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTPS://WWW.CoinDesk.com/markets/2026/09/25/story?utm_source=rss&utm_medium=feed",
            "https://www.coindesk.com/markets/2026/09/25/story",
        ),
        ("https://example.com/a?b=2&a=1#comments", "https://example.com/a?a=1&b=2"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com", "https://example.com/"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        (
            "https://example.com/a?id=7&fbclid=X&gclid=Y&mc_cid=Z&ref=twitter&_ga=1",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/search?q=bitcoin+etf", "https://example.com/search?q=bitcoin+etf"),
        ("  https://example.com/padded  ", "https://example.com/padded"),
    ],
)
def test_canonical_url_table(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "/relative/path",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "mailto:news@example.com",
        "https://",
        "https://exa mple.com/a",
        "https://example.com:99999/a",
        "not a url",
    ],
)
def test_not_an_article_url_is_refused(raw: str) -> None:
    assert canonical_url(raw) is None


def test_http_and_https_and_trailing_slash_are_one_story() -> None:
    ids = {
        article_id(url)
        for raw in (
            "https://example.com/story",
            "http://example.com/story",
            "https://example.com/story/",
            "https://EXAMPLE.com/story?utm_campaign=x#top",
        )
        if (url := canonical_url(raw)) is not None
    }
    assert len(ids) == 1
    assert len(ids.pop()) == 32


def test_different_stories_have_different_ids() -> None:
    first = canonical_url("https://example.com/story?id=1")
    second = canonical_url("https://example.com/story?id=2")
    assert first is not None
    assert second is not None
    assert article_id(first) != article_id(second)


_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
_hosts = st.builds(lambda a, b: f"{a}.{b}", _label, st.sampled_from(["com", "io", "co.uk"]))
_paths = st.lists(st.text(string.ascii_letters + string.digits + "-_.~", max_size=8), max_size=4)
_param_names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8).filter(
    lambda n: not n.startswith(TRACKING_PREFIXES) and n not in TRACKING_PARAMS
)
_params = st.lists(
    st.tuples(_param_names, st.text(string.ascii_letters + string.digits, max_size=6)),
    max_size=4,
    unique_by=lambda p: p[0],
)
_tracking = st.lists(
    st.tuples(
        st.sampled_from(["utm_source", "utm_medium", "UTM_Campaign", "fbclid", "gclid", "mc_eid"]),
        st.text(string.ascii_letters, min_size=1, max_size=6),
    ),
    max_size=3,
)


def _url(scheme: str, host: str, path: list[str], params: list[tuple[str, str]]) -> str:
    query = "&".join(f"{k}={v}" for k, v in params)
    return f"{scheme}://{host}/{'/'.join(path)}" + (f"?{query}" if query else "")


@given(st.sampled_from(["http", "https"]), _hosts, _paths, _params, _tracking, _label)
def test_tracking_fragment_and_case_never_change_the_story(
    scheme: str,
    host: str,
    path: list[str],
    params: list[tuple[str, str]],
    tracking: list[tuple[str, str]],
    fragment: str,
) -> None:
    plain = canonical_url(_url(scheme, host, path, params))
    noisy = canonical_url(
        _url(scheme.upper(), host.upper(), path, [*tracking, *params]) + "#" + fragment
    )
    assert plain is not None
    assert noisy == plain
    assert "#" not in plain
    assert "utm_" not in plain.lower()
    assert "fbclid" not in plain
    assert "gclid" not in plain
    for name, _ in params:
        assert f"{name}=" in plain


@given(st.sampled_from(["http", "https"]), _hosts, _paths, _params)
def test_canonicalising_twice_changes_nothing(
    scheme: str, host: str, path: list[str], params: list[tuple[str, str]]
) -> None:
    once = canonical_url(_url(scheme, host, path, params))
    assert once is not None
    assert canonical_url(once) == once
