"""The old hub's REST routes: the old shapes, real values, 503/404 instead of invented data."""

import re
from typing import Any

import httpx
import pytest

from cryptohub.gateway.testing.seed import Seed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    pytest.mark.asyncio(loop_scope="module"),
]

ISO_Z_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    return body


async def test_market_has_the_old_fields_with_real_totals(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (await client.get("/api/market", params={"limit": 250, "symbol": "ignored"})).json()
    assert body["success"] is True
    assert body["total_market_cap"] == body["totalMarketCap"] == 3.1e12
    assert body["total_volume"] == body["totalVolume"] == 1.2e11
    assert body["btc_dominance"] == round(57.123, 2)
    assert body["eth_dominance"] == round(12.345, 2)
    assert body["active_coins"] == body["activeCoins"] == 10000
    assert body["source"] == "coingecko"
    assert ISO_Z_MS.match(body["timestamp"])
    coins = {c["symbol"]: c for c in body["cryptocurrencies"]}
    assert coins[api.btc.upper()]["price"] == 90000.0
    assert coins[api.btc.upper()]["market_cap"] == 1.8e12
    assert api.old.upper() not in coins  # its price is an hour old: not shown as current


async def test_market_limit_outside_1_to_250_is_a_422(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/api/market", params={"limit": 0}), 422)
    assert body["errors"]
    problem(await client.get("/api/market", params={"limit": 251}), 422)


async def test_ohlc_in_old_shape_ascending_with_epoch_ms(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (
        await client.get(
            "/api/market/ohlc", params={"symbol": api.btc.upper(), "interval": "1h", "limit": 3}
        )
    ).json()
    assert body["symbol"] == api.btc.upper()
    assert body["timeframe"] == "1h"
    assert body["source"] == "binance"
    assert [p["open"] for p in body["ohlc"]] == [102.0, 103.0, 104.0]
    stamps = [p["timestamp"] for p in body["ohlc"]]
    assert stamps == sorted(stamps)
    assert stamps[1] - stamps[0] == 3_600_000
    assert body["data"] == body["ohlc"]


async def test_ohlc_errors(client: httpx.AsyncClient, api: Seed) -> None:
    bad = problem(
        await client.get("/api/market/ohlc", params={"symbol": api.btc, "timeframe": "2h"}), 400
    )
    assert "Invalid timeframe" in bad["detail"]
    problem(
        await client.get(
            "/api/market/ohlc", params={"symbol": api.btc, "timeframe": "1h", "interval": "4h"}
        ),
        400,
    )
    problem(
        await client.get("/api/market/ohlc", params={"symbol": api.btc, "interval": "30m"}), 404
    )
    problem(await client.get("/api/market/ohlc", params={"symbol": "NOSUCH"}), 404)
    problem(await client.get("/api/market/ohlc"), 422)


async def test_news_in_old_shape(client: httpx.AsyncClient, api: Seed) -> None:
    body = (await client.get("/api/news", params={"source": "coindesk", "limit": 200})).json()
    mine = [a for a in body["articles"] if a["id"].endswith(api.btc)]
    assert [a["id"] for a in mine] == [f"n1-{api.btc}", f"n3-{api.btc}"]
    assert body["news"] == body["articles"]
    assert body["total"] == len(body["articles"])
    first = mine[0]
    assert first["description"] == "x" * 200 + "..."
    assert first["content"] == "x" * 300
    assert first["source"] == "CoinDesk"
    assert first["sentiment"] == "positive"
    assert first["sentiment_score"] == 0.7
    assert first["tags"] == [api.btc.upper()]
    assert ISO_Z_MS.match(first["published_at"])
    assert mine[1]["sentiment"] is None  # not scored yet: said so, not "neutral"
    latest = (await client.get("/api/news/latest", params={"source": "coindesk"})).json()
    assert [a["id"] for a in latest["articles"] if a["id"].endswith(api.btc)] == [
        a["id"] for a in mine
    ]


async def test_news_sentiment_filter(client: httpx.AsyncClient, api: Seed) -> None:
    body = (await client.get("/api/news", params={"sentiment": "positive"})).json()
    assert f"n1-{api.btc}" in [a["id"] for a in body["articles"]]
    assert all(a["sentiment"] == "positive" for a in body["articles"])
    problem(await client.get("/api/news", params={"sentiment": "great"}), 422)


async def test_sentiment_is_fear_and_greed_with_daily_history(client: httpx.AsyncClient) -> None:
    for path in ("/api/sentiment", "/api/sentiment/global"):
        body = (await client.get(path, params={"timeframe": "7D"})).json()
        assert body["fear_greed_index"] == 23
        assert body["fear_greed_label"] == body["classification"] == "Extreme Fear"
        assert body["sentiment"] == "extreme_fear"
        assert body["market_mood"] == "very_bearish"
        assert body["confidence"] is None
        assert [p["sentiment"] for p in body["history"]] == [30, 23]
        assert all(p["volume"] is None for p in body["history"])
    one_day = (await client.get("/api/sentiment", params={"timeframe": "bogus"})).json()
    assert [p["sentiment"] for p in one_day["history"]] == [23]


async def test_asset_sentiment_in_old_shape(client: httpx.AsyncClient, api: Seed) -> None:
    body = (await client.get(f"/api/sentiment/asset/{api.btc.upper()}")).json()
    assert body["success"] is True
    assert body["symbol"] == api.btc.upper()
    assert body["sentiment"] == "bullish"
    assert body["sentiment_value"] == 70
    assert body["news_score"] == 0.4
    assert body["social_score"] is None
    assert body["sources"]["news"] == 12
    problem(await client.get("/api/sentiment/asset/NOSUCH"), 404)


async def test_status_counts_providers_by_state(client: httpx.AsyncClient, api: Seed) -> None:
    body = (await client.get("/api/status")).json()
    assert body["total_providers"] == body["total_apis"] >= 1
    assert body["online"] + body["offline"] + body["degraded"] == body["total_providers"]
    assert body["degraded"] >= 1
    assert body["health"] == body["system_health"]
    assert body["health"] in ("healthy", "degraded", "unhealthy")
    assert ISO_Z_MS.match(body["timestamp"])
    providers = (await client.get("/api/providers", params={"search": api.provider})).json()
    assert [(p["id"], p["status"]) for p in providers["providers"]] == [(api.provider, "degraded")]
    assert providers["total"] == 1
