"""REST /api/v1 against a real gateway, NATS and PostgreSQL: values, filters, paging, freshness."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cryptohub.common.streams import STREAMS
from cryptohub.gateway.testing.seed import ADMIN_KEY, Seed

PROBLEM = "application/problem+json"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    pytest.mark.asyncio(loop_scope="module"),
]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


# --- prices


async def test_prices_lists_consensus_only_with_its_age(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (await client.get("/api/v1/prices", params={"symbols": f"{api.btc},{api.old}"})).json()
    assert [p["symbol"] for p in body["data"]] == sorted([api.btc, api.old])
    mine = next(p for p in body["data"] if p["symbol"] == api.btc)
    assert mine["price"] == 90000.0
    assert mine["source"] == "consensus"
    assert mine["contributors"] == ["binance", "coingecko"]
    assert mine["age_s"] < 60
    assert body["age_s"] >= 3600  # the oldest price in the response
    assert body["count"] == 2


async def test_prices_symbols_filter_is_case_insensitive(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (await client.get("/api/v1/prices", params={"symbols": api.btc.upper()})).json()
    assert [p["symbol"] for p in body["data"]] == [api.btc]


async def test_prices_pages_with_a_cursor(client: httpx.AsyncClient, api: Seed) -> None:
    wanted = f"{api.btc},{api.old}"
    first = (await client.get("/api/v1/prices", params={"symbols": wanted, "limit": 1})).json()
    assert first["count"] == 1
    assert first["next_cursor"]
    second = (
        await client.get(
            "/api/v1/prices", params={"symbols": wanted, "limit": 1, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [p["symbol"] for p in first["data"] + second["data"]] == sorted([api.btc, api.old])
    assert second["next_cursor"] is None


async def test_stale_prices_with_max_age_are_a_503_naming_the_asset(
    client: httpx.AsyncClient, api: Seed
) -> None:
    fresh = await client.get("/api/v1/prices", params={"symbols": api.btc, "max_age": 60})
    assert fresh.status_code == 200
    stale = await client.get(
        "/api/v1/prices", params={"symbols": f"{api.btc},{api.old}", "max_age": 60}
    )
    body = assert_problem(stale, 503)
    assert api.old in body["detail"]
    assert "max_age=60" in body["detail"]
    assert stale.headers["retry-after"]


async def test_price_detail_has_consensus_providers_and_provenance(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (await client.get(f"/api/v1/prices/{api.btc.upper()}")).json()
    assert body["symbol"] == api.btc
    assert body["consensus"]["price"] == 90000.0
    assert body["consensus"]["rejected"] == [
        {"provider": "kraken", "price": 95000.0, "deviation_pct": 5.5}
    ]
    assert body["consensus"]["spread_pct"] == 0.1
    assert body["consensus"]["confidence"] == 0.9
    assert [(p["source"], p["price"]) for p in body["providers"]] == [
        ("binance", 90010.0),
        ("coingecko", 89990.0),
    ]


async def test_unknown_price_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/prices/nosuchcoin"), 404)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/prices", {"limit": "0"}),
        ("/api/v1/prices", {"limit": "1001"}),
        ("/api/v1/prices", {"limit": "99999999999999999999999999999999"}),
        ("/api/v1/prices", {"limit": "ten"}),
        ("/api/v1/prices", {"cursor": "bm90IGEgY3Vyc29y"}),
        ("/api/v1/prices", {"cursor": "%%%"}),
        ("/api/v1/prices", {"symbols": "btc,\x00eth"}),
        ("/api/v1/prices", {"max_age": "-1"}),
        ("/api/v1/prices/bad%00symbol", {}),
        ("/api/v1/prices/" + "x" * 40, {}),
        ("/api/v1/ohlcv/btc", {"interval": "2h"}),
        ("/api/v1/ohlcv/btc", {"start": "yesterday"}),
        ("/api/v1/ohlcv/btc", {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}),
        ("/api/v1/ohlcv/btc", {"start": "0001-01-01T00:00:00+05:00"}),
        ("/api/v1/chain/whales", {"min_usd": "-5"}),
        ("/api/v1/news", {"since": "\x00"}),
        ("/api/v1/alerts", {"state": "weird"}),
    ],
)
async def test_bad_input_is_a_400_problem_never_a_5xx(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    assert_problem(await client.get(path, params=params), 400)


async def test_a_cursor_of_another_list_is_refused(client: httpx.AsyncClient, api: Seed) -> None:
    page = (await client.get(f"/api/v1/chain/blocks/{api.chain}", params={"limit": 1})).json()
    body = assert_problem(
        await client.get("/api/v1/prices", params={"cursor": page["next_cursor"]}), 400
    )
    assert "cursor" in body["detail"]


# --- market


async def test_ohlcv_returns_candles_ascending_and_pages_forwards(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (await client.get(f"/api/v1/ohlcv/{api.btc}", params={"interval": "1h"})).json()
    assert [c["open"] for c in body["data"]] == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert body["data"][0]["high"] == 110.0
    assert body["as_of"] is not None
    start = body["data"][0]["open_time"]
    first = (
        await client.get(f"/api/v1/ohlcv/{api.btc}", params={"start": start, "limit": 2})
    ).json()
    assert [c["open"] for c in first["data"]] == [100.0, 101.0]
    rest = (
        await client.get(
            f"/api/v1/ohlcv/{api.btc}",
            params={"start": start, "limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [c["open"] for c in rest["data"]] == [102.0, 103.0]
    other = (await client.get(f"/api/v1/ohlcv/{api.btc}", params={"interval": "1d"})).json()
    assert other["data"] == []
    assert other["as_of"] is None


async def test_ohlcv_time_range_is_half_open(client: httpx.AsyncClient, api: Seed) -> None:
    all_ = (await client.get(f"/api/v1/ohlcv/{api.btc}")).json()["data"]
    start, end = all_[1]["open_time"], all_[3]["open_time"]
    body = (
        await client.get(f"/api/v1/ohlcv/{api.btc}", params={"start": start, "end": end})
    ).json()
    assert [c["open"] for c in body["data"]] == [101.0, 102.0]


async def test_global_has_totals_and_max_age(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/global")).json()
    assert body["data"]["total_market_cap_usd"] == 3.1e12
    assert body["data"]["btc_dominance_pct"] == 57.123
    assert body["age_s"] < 60
    assert (await client.get("/api/v1/global", params={"max_age": 3600})).status_code == 200


async def test_tvl_lists_each_protocol_and_pages(client: httpx.AsyncClient, api: Seed) -> None:
    body = (await client.get("/api/v1/tvl")).json()
    mine = [p for p in body["data"] if p["protocol"].endswith(api.btc)]
    assert [(p["protocol"], p["tvl_usd"]) for p in mine] == [
        (f"aave-{api.btc}", 2e10),
        (f"lido-{api.btc}", 3e10),
    ]
    page = (await client.get("/api/v1/tvl", params={"limit": 1})).json()
    assert page["count"] == 1
    nxt = await client.get("/api/v1/tvl", params={"limit": 1, "cursor": page["next_cursor"]})
    assert nxt.json()["data"][0]["protocol"] > page["data"][0]["protocol"]


# --- chain


async def test_gas_of_a_chain(client: httpx.AsyncClient, api: Seed) -> None:
    body = (await client.get(f"/api/v1/chain/gas/{api.chain}")).json()
    assert (
        body["data"]["slow_gwei"],
        body["data"]["standard_gwei"],
        body["data"]["fast_gwei"],
    ) == (
        10.0,
        12.0,
        15.0,
    )
    assert body["data"]["source"] == "etherscan"
    assert_problem(await client.get("/api/v1/chain/gas/nochain"), 404)


async def test_blocks_newest_first_with_paging(client: httpx.AsyncClient, api: Seed) -> None:
    first = (await client.get(f"/api/v1/chain/blocks/{api.chain}", params={"limit": 2})).json()
    assert [b["number"] for b in first["data"]] == [502, 501]
    rest = (
        await client.get(
            f"/api/v1/chain/blocks/{api.chain}", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [b["number"] for b in rest["data"]] == [500]
    assert rest["next_cursor"] is None


async def test_whales_filter_by_chain_and_value_and_page(
    client: httpx.AsyncClient, api: Seed
) -> None:
    body = (
        await client.get("/api/v1/chain/whales", params={"chain": api.chain, "min_usd": 1.5e6})
    ).json()
    assert [w["usd_value"] for w in body["data"]] == [3e6, 2e6]
    page1 = (
        await client.get("/api/v1/chain/whales", params={"chain": api.chain, "limit": 2})
    ).json()
    page2 = (
        await client.get(
            "/api/v1/chain/whales",
            params={"chain": api.chain, "limit": 2, "cursor": page1["next_cursor"]},
        )
    ).json()
    values = [w["usd_value"] for w in page1["data"] + page2["data"]]
    assert values == [3e6, 2e6, 1e6]


# --- news and sentiment


async def test_news_filters_by_symbol_source_and_time(client: httpx.AsyncClient, api: Seed) -> None:
    about = (await client.get("/api/v1/news", params={"symbol": api.btc})).json()
    assert [a["id"] for a in about["data"]] == [f"n1-{api.btc}", f"n3-{api.btc}"]
    assert about["data"][0]["sentiment"] == {"label": "bullish", "score": 0.7, "model": "finbert"}
    assert about["data"][1]["sentiment"] is None
    outlet = (
        await client.get("/api/v1/news", params={"symbol": api.btc, "source": "CoinDesk"})
    ).json()
    assert len(outlet["data"]) == 2
    since = (datetime.now(UTC) - timedelta(seconds=150)).isoformat()
    recent = (await client.get("/api/v1/news", params={"symbol": api.btc, "since": since})).json()
    assert [a["id"] for a in recent["data"]] == [f"n1-{api.btc}"]


async def test_news_pages_without_gaps_or_repeats(client: httpx.AsyncClient, api: Seed) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1, "source": "coindesk"}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/api/v1/news", params=params)).json()
        seen += [a["id"] for a in body["data"] if a["id"].endswith(api.btc)]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"n1-{api.btc}", f"n3-{api.btc}"]


async def test_sentiment_index_and_asset(client: httpx.AsyncClient, api: Seed) -> None:
    index = (await client.get("/api/v1/sentiment/index")).json()
    fng = next(i for i in index["data"] if i["name"] == "fear-greed")
    assert (fng["value"], fng["classification"]) == (23, "Extreme Fear")
    asset = (await client.get(f"/api/v1/sentiment/assets/{api.btc}")).json()
    windows = {w["window"]: (w["score"], w["label"]) for w in asset["data"]}
    assert windows == {"24h": (0.4, "bullish"), "1h": (-0.1, "neutral")}
    assert_problem(await client.get("/api/v1/sentiment/assets/nosuchcoin"), 404)


# --- providers, alerts, status


async def test_providers_come_from_health_state(client: httpx.AsyncClient, api: Seed) -> None:
    listed = (await client.get("/api/v1/providers", params={"state": "degraded"})).json()
    mine = [p for p in listed["data"] if p["name"] == api.provider]
    assert len(mine) == 1
    assert (mine[0]["state"], mine[0]["p50_ms"], mine[0]["calls"]) == ("degraded", 120.0, 50)
    online = (await client.get("/api/v1/providers", params={"state": "online"})).json()
    assert api.provider not in [p["name"] for p in online["data"]]
    detail = (await client.get(f"/api/v1/providers/{api.provider}")).json()
    assert detail["data"]["reason"] == "slow calls"
    assert detail["changes"] == []
    assert_problem(await client.get("/api/v1/providers/nosuchprovider"), 404)


async def test_alerts_in_latest_state_filtered(client: httpx.AsyncClient, api: Seed) -> None:
    open_ = (await client.get("/api/v1/alerts", params={"state": "open"})).json()
    ids = [a["id"] for a in open_["data"]]
    assert api.alert_open in ids
    assert api.alert_resolved not in ids
    resolved = (await client.get("/api/v1/alerts", params={"state": "resolved"})).json()
    mine = [a for a in resolved["data"] if a["id"] == api.alert_resolved]
    assert [a["message"] for a in mine] == ["fine again"]


async def test_acking_an_alert_needs_an_admin_key(client: httpx.AsyncClient, api: Seed) -> None:
    path = f"/api/v1/alerts/{api.alert_open}/ack"
    assert_problem(await client.post(path), 401)
    assert_problem(await client.post(path, headers={"X-API-Key": "wrong"}), 403)
    ok = await client.post(path, json={"note": "looking"}, headers={"X-API-Key": ADMIN_KEY})
    assert ok.status_code == 200, ok.text
    assert ok.json()["ack"]["note"] == "looking"
    listed = (await client.get("/api/v1/alerts", params={"state": "open"})).json()
    mine = next(a for a in listed["data"] if a["id"] == api.alert_open)
    assert mine["ack"]["note"] == "looking"
    assert ADMIN_KEY not in ok.text
    missing = await client.post(
        "/api/v1/alerts/no-such-alert/ack", headers={"X-API-Key": ADMIN_KEY}
    )
    assert_problem(missing, 404)


async def test_status_reports_connections_persistence_and_freshness(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/api/v1/status")).json()
    assert body["status"] == "ok"
    assert body["nats_connected"] is True
    assert {s["stream"] for s in body["persistence"]} == {s.name for s in STREAMS}
    assert sum(s["inserted"] for s in body["persistence"]) > 0
    kinds = {f["kind"]: f for f in body["freshness"]}
    assert kinds["prices"]["subjects"] >= 2
    assert kinds["prices"]["age_s"] is not None
    assert body["providers"]["total"] >= 1
    assert body["mode"] == "live", "only `cryptohub up --replay` (CRYPTOHUB_REPLAY=1) says replay"


async def test_ops_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = (await client.get("/readyz")).json()
    assert ready["ready"] is True
    metrics = await client.get("/metrics")
    assert "cryptohub_gateway_persisted_total" in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404)
    assert_problem(await client.delete("/api/v1/prices"), 405)


async def test_openapi_schema_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/prices" in schema["paths"]
    assert "/api/market/ohlc" in schema["paths"]
    docs = await client.get("/docs", follow_redirects=True)
    assert docs.status_code == 200
    assert "html" in docs.headers["content-type"]
