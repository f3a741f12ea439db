"""CryptoPanic posts parsing. No success body was ever recorded (only an invalid-token error, used
in the integration test), so this parses CryptoPanic's documented response example for
`GET /api/v1/posts/` (developers API page: count/next/previous/results, each post with kind,
domain, source, title, published_at, slug, currencies, id, url, created_at, votes)."""

from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import pytest

from cryptohub.collector_news.normalise import Normaliser
from cryptohub.collector_news.providers.cryptopanic import cryptopanic_request, parse_posts
from cryptohub.common.providers import ParseContext

# Documented example (shape and field names as documented; not a recording).
DOCUMENTED_POSTS = b"""{
  "count": 2,
  "next": null,
  "previous": null,
  "results": [
    {
      "kind": "news",
      "domain": "cointelegraph.com",
      "source": {
        "title": "CoinTelegraph", "region": "en", "domain": "cointelegraph.com", "path": null
      },
      "title": "Bitcoin Price Holds Above $60K as ETF Inflows Continue",
      "published_at": "2024-03-20T10:43:00Z",
      "slug": "Bitcoin-Price-Holds-Above-60K-as-ETF-Inflows-Continue",
      "currencies": [
        {"code": "BTC", "title": "Bitcoin", "slug": "bitcoin",
         "url": "https://cryptopanic.com/news/bitcoin/"}
      ],
      "id": 19523451,
      "url": "https://cryptopanic.com/news/19523451/Bitcoin-Price-Holds-Above-60K-as-ETF-Inflows-Continue",
      "created_at": "2024-03-20T10:43:00Z",
      "votes": {
        "negative": 0, "positive": 3, "important": 1, "liked": 2, "disliked": 0,
        "lol": 0, "toxic": 0, "saved": 1, "comments": 0
      }
    },
    {
      "kind": "news",
      "domain": "decrypt.co",
      "source": {"title": "Decrypt", "region": "en", "domain": "decrypt.co", "path": null},
      "title": "Ethereum Developers Set Date for Next Upgrade",
      "published_at": "2024-03-20T09:15:00Z",
      "slug": "Ethereum-Developers-Set-Date-for-Next-Upgrade",
      "currencies": [
        {"code": "ETH", "title": "Ethereum", "slug": "ethereum",
         "url": "https://cryptopanic.com/news/ethereum/"}
      ],
      "id": 19523112,
      "url": "https://cryptopanic.com/news/19523112/Ethereum-Developers-Set-Date-for-Next-Upgrade",
      "created_at": "2024-03-20T09:15:00Z",
      "votes": {
        "negative": 0, "positive": 0, "important": 0, "liked": 0, "disliked": 0,
        "lol": 0, "toxic": 0, "saved": 0, "comments": 0
      }
    }
  ]
}"""


def test_documented_posts(
    ctx: Callable[[str], ParseContext], recorded_era: Callable[[str], Normaliser]
) -> None:
    batch = parse_posts(
        DOCUMENTED_POSTS, ctx("cryptopanic"), normaliser=recorded_era("cryptopanic")
    )
    assert dict(batch.anomalies) == {}
    first, second = batch.articles
    assert first.title == "Bitcoin Price Holds Above $60K as ETF Inflows Continue"
    assert first.url == (
        "https://cryptopanic.com/news/19523451/Bitcoin-Price-Holds-Above-60K-as-ETF-Inflows-Continue"
    )
    assert first.observed_at == datetime(2024, 3, 20, 10, 43, tzinfo=UTC)
    assert first.outlet == "CoinTelegraph"
    assert first.language == "en"
    assert first.symbols == ("btc",)
    assert second.symbols == ("eth",)  # from the title and the post's currencies


def test_the_key_goes_in_the_query_and_news_only_is_asked() -> None:
    request = cryptopanic_request()
    assert request.path == "/api/v1/posts/"
    assert request.params == {"public": "true", "kind": "news", "regions": "en"}


def test_the_recorded_error_body_is_not_mistaken_for_posts(
    recorded: Callable[[str], bytes],
    ctx: Callable[[str], ParseContext],
    recorded_era: Callable[[str], Normaliser],
) -> None:
    # Served with HTTP 400 (the client never parses it); if a proxy passed it on as a 200, the
    # parse refuses it rather than publishing nothing as if the feed were empty.
    with pytest.raises(msgspec.ValidationError, match="results"):
        parse_posts(
            recorded("cryptopanic/error_400_token_not_found.json"),
            ctx("cryptopanic"),
            normaliser=recorded_era("cryptopanic"),
        )
