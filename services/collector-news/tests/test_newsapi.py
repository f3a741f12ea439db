"""NewsAPI `everything` parsing. Only an invalid-key error was recorded (used in the integration
test), so this parses a body in the shape of NewsAPI's documented response object for
`/v2/everything` (status, totalResults, articles[] of source{id,name}, author, title, description,
url, urlToImage, publishedAt, content)."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cryptohub.collector_news.normalise import Normaliser
from cryptohub.collector_news.providers.newsapi import newsapi_request, parse_everything
from cryptohub.common.providers import ParseContext, ParseError

# Documented response shape (not a recording).
DOCUMENTED_EVERYTHING = b"""{
  "status": "ok",
  "totalResults": 3,
  "articles": [
    {
      "source": {"id": null, "name": "Gizmodo.com"},
      "author": "Jane Doe",
      "title": "Bitcoin Miners Brace for the Halving",
      "description": "Mining firms are <b>stockpiling</b> BTC ahead of April&#39;s halving.",
      "url": "https://gizmodo.com/bitcoin-miners-halving-2024-1851234567?utm_source=newsapi",
      "urlToImage": "https://i.kinja-img.com/image.jpg",
      "publishedAt": "2024-03-20T14:05:00Z",
      "content": "Mining firms are stockpiling\\u2026 [+2951 chars]"
    },
    {
      "source": {"id": null, "name": "[Removed]"},
      "author": null,
      "title": "[Removed]",
      "description": "[Removed]",
      "url": "https://removed.com",
      "urlToImage": null,
      "publishedAt": "1970-01-01T00:00:00Z",
      "content": "[Removed]"
    },
    {
      "source": {"id": "the-verge", "name": "The Verge"},
      "author": "John Roe",
      "title": "Solana phones sell out again",
      "description": null,
      "url": "https://www.theverge.com/2024/3/20/solana-saga-phone",
      "urlToImage": null,
      "publishedAt": "2024-03-20T12:00:00Z",
      "content": null
    }
  ]
}"""


def test_documented_everything(
    ctx: Callable[[str], ParseContext], recorded_era: Callable[[str], Normaliser]
) -> None:
    batch = parse_everything(
        DOCUMENTED_EVERYTHING, ctx("newsapi"), normaliser=recorded_era("newsapi"), language="en"
    )
    assert dict(batch.anomalies) == {"removed": 1}
    first, second = batch.articles
    assert first.title == "Bitcoin Miners Brace for the Halving"
    assert first.url == "https://gizmodo.com/bitcoin-miners-halving-2024-1851234567"
    assert first.summary == "Mining firms are stockpiling BTC ahead of April's halving."
    assert first.observed_at == datetime(2024, 3, 20, 14, 5, tzinfo=UTC)
    assert first.outlet == "Gizmodo.com"
    assert first.language == "en"
    assert first.symbols == ("btc",)
    assert second.outlet == "The Verge"
    assert second.summary == ""
    assert second.symbols == ("sol",)


def test_an_error_status_is_a_parse_error(
    recorded: Callable[[str], bytes],
    ctx: Callable[[str], ParseContext],
    recorded_era: Callable[[str], Normaliser],
) -> None:
    # The recorded 401 body; the client never parses a 4xx, but a proxy could send it as 200.
    with pytest.raises(ParseError, match="apiKeyInvalid"):
        parse_everything(
            recorded("newsapi/error_401_apiKeyInvalid.json"),
            ctx("newsapi"),
            normaliser=recorded_era("newsapi"),
            language="en",
        )


def test_request() -> None:
    request = newsapi_request(query="bitcoin", language="en", page_size=20)
    assert request.path == "/v2/everything"
    assert request.params == {
        "q": "bitcoin",
        "language": "en",
        "sortBy": "publishedAt",
        "pageSize": 20,
    }
