"""API keys, admin endpoints, the per-client rate limit, CORS, and answers without any data."""

import hashlib
import secrets
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def test_rate_limit_refuses_with_429_and_the_old_hubs_headers(gateway: Any) -> None:
    async with (
        gateway(rate_limit_per_minute=60, rate_limit_burst=3) as base,
        httpx.AsyncClient(base_url=base, timeout=5) as client,
    ):
        allowed = [await client.get("/api/v1/prices") for _ in range(3)]
        refused = await client.get("/api/v1/prices")
        health = await client.get("/healthz")
        other_client = await client.get("/api/v1/prices", headers={"X-API-Key": "someone"})
    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert allowed[0].headers["x-ratelimit-limit"] == "60"
    assert [r.headers["x-ratelimit-remaining"] for r in allowed] == ["2", "1", "0"]
    assert "x-ratelimit-reset" in allowed[0].headers
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["retry_after_s"] == int(refused.headers["retry-after"])
    assert "Too many requests" in refused.json()["detail"]
    assert health.status_code == 200  # probes are never limited
    assert other_client.status_code == 200  # the limit is per client, a key is its own client


async def test_read_api_keys_close_the_read_api(gateway: Any) -> None:
    key = secrets.token_hex(16)
    async with (
        gateway(read_api_keys=(digest(key),)) as base,
        httpx.AsyncClient(base_url=base, timeout=5) as client,
    ):
        anonymous = await client.get("/api/v1/prices")
        old_route = await client.get("/api/status")
        wrong = await client.get("/api/v1/prices", headers={"X-API-Key": "nope"})
        with_header = await client.get("/api/v1/prices", headers={"X-API-Key": key})
        with_bearer = await client.get("/api/v1/prices", headers={"Authorization": f"Bearer {key}"})
        health = await client.get("/healthz")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    assert old_route.status_code == 401
    assert wrong.status_code == 401
    assert with_header.status_code == 200
    assert with_bearer.status_code == 200
    assert health.status_code == 200
    assert key not in anonymous.text + with_header.text


async def test_admin_endpoints_refuse_every_key_when_none_is_configured(gateway: Any) -> None:
    async with gateway() as base, httpx.AsyncClient(base_url=base, timeout=5) as client:
        anonymous = await client.post("/api/v1/alerts/some-alert/ack")
        keyed = await client.post(
            "/api/v1/alerts/some-alert/ack", headers={"X-API-Key": "anything"}
        )
    assert anonymous.status_code == 401
    assert keyed.status_code == 403


async def test_cors_allows_any_origin_by_default_and_only_listed_ones_when_set(
    gateway: Any,
) -> None:
    async with gateway() as base, httpx.AsyncClient(base_url=base, timeout=5) as client:
        open_ = await client.get("/api/v1/prices", headers={"Origin": "https://pages.example"})
    assert open_.headers["access-control-allow-origin"] == "*"
    async with (
        gateway(cors_origins=("https://app.example",)) as base,
        httpx.AsyncClient(base_url=base, timeout=5) as client,
    ):
        listed = await client.get("/api/v1/prices", headers={"Origin": "https://app.example"})
        other = await client.get("/api/v1/prices", headers={"Origin": "https://evil.example"})
        preflight = await client.options(
            "/api/v1/prices",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
    assert listed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code in (200, 204)


async def test_without_any_data_nothing_is_invented(gateway: Any) -> None:
    async with gateway() as base, httpx.AsyncClient(base_url=base, timeout=5) as client:
        prices = await client.get("/api/v1/prices")
        fresh_only = await client.get("/api/v1/prices", params={"max_age": 5})
        global_ = await client.get("/api/v1/global")
        market = await client.get("/api/market")
        sentiment = await client.get("/api/sentiment")
        news = await client.get("/api/news")
    assert prices.json()["data"] == []
    assert prices.json()["as_of"] is None
    assert fresh_only.status_code == 200  # nothing to be stale
    assert global_.status_code == 404
    assert market.status_code == 503
    assert market.json()["detail"] == "no market snapshot newer than 120 s"
    assert sentiment.status_code == 503
    assert news.status_code == 200
    assert news.json()["articles"] == []
