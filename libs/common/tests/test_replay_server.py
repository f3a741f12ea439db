"""The replay server over real loopback HTTP: recorded bodies, conditional GET, faults, control."""

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree

import h11
import httpx
import msgspec
import pytest

from cryptohub.common.replay import (
    ANY,
    Fault,
    ReplayServer,
    RouteTableError,
    load_routes,
)
from cryptohub.common.testing.replay import find_provider_fixtures

FIXTURES = find_provider_fixtures(Path(__file__).parent)
TIMEOUT = httpx.Timeout(3.0)
GLOBAL = "/api/v3/global"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        yield http


def recorded(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def test_recorded_body_is_served_byte_for_byte_with_status_and_content_type(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    ok = await client.get(replay_server.base_url("coingecko") + GLOBAL)
    error = await client.get(replay_server.base_url("coingecko") + "/api/v3/coins/markets")
    feed = await client.get(replay_server.base_url("cointelegraph") + "/rss")

    assert (ok.status_code, ok.headers["content-type"]) == (200, "application/json")
    assert ok.content == recorded("coingecko/global.json")
    assert error.status_code == 422
    assert error.content == recorded("coingecko/error_422_missing_vs_currency.json")
    assert feed.headers["content-type"] == "application/rss+xml"
    assert feed.content == recorded("rss/cointelegraph.xml")


async def test_every_route_in_the_table_serves_its_file(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    routes = list(load_routes(FIXTURES))
    assert {r.source for r in routes} == {
        str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.*") if p.parent != FIXTURES
    }
    for route in routes:
        url = replay_server.base_url(route.provider) + route.path
        params = {k: v for k, v in route.query.items() if v is not None}
        if route.rpc_method is None:
            response = await client.request(route.method, url, params=params)
        else:
            params_list = [p if p is not None else "latest" for p in route.rpc_params or ()]
            call = {"jsonrpc": "2.0", "id": 1, "method": route.rpc_method, "params": params_list}
            response = await client.post(url, json=call)
        assert (response.status_code, response.content) == (route.status, route.body), route
        assert response.content == recorded(route.source)


async def test_json_rpc_routes_match_on_method_and_params(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    url = replay_server.base_url("ethereum_rpc")

    async def call(method: str, *params: object) -> bytes:
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
        return (await client.post(url, json=body)).content

    assert await call("eth_blockNumber") == recorded("ethereum_rpc/eth_blockNumber_publicnode.json")
    hashes = await call("eth_getBlockByNumber", "0x1", False)
    assert hashes == recorded("ethereum_rpc/eth_getBlockByNumber_false_publicnode.json")
    parity = await call("eth_getBlockByNumber", "0x76250", True)
    assert parity == recorded("ethereum_rpc/eth_getBlockByNumber_0x76250_full_tx_parity.json")
    latest = await call("eth_getBlockByNumber", "latest", True)
    assert latest == recorded("ethereum_rpc/eth_getBlockByNumber_latest_full_tx_geth.json")
    unknown = await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_nope"})
    assert unknown.status_code == 404


async def test_unknown_provider_or_route_answers_404_json(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    no_provider = await client.get(replay_server.base_url("nobody") + GLOBAL)
    no_route = await client.get(replay_server.base_url("coingecko") + "/api/v3/nothing")
    wrong_query = await client.get(
        replay_server.base_url("binance") + "/api/v3/ticker/price", params={"symbol": "ETHUSDT"}
    )

    for response in (no_provider, no_route, wrong_query):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert "error" in response.json()
    assert no_provider.json()["error"].startswith("unknown provider 'nobody': nothing is recorded")
    assert "no recorded route for GET /api/v3/nothing" in no_route.json()["error"]


async def test_matching_etag_answers_304_without_body(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    url = replay_server.base_url("coingecko") + GLOBAL
    first = await client.get(url)
    etag = first.headers["etag"]

    again = await client.get(url, headers={"If-None-Match": etag})
    other = await client.get(url, headers={"If-None-Match": '"stale"'})

    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert (other.status_code, other.content) == (200, first.content)


async def test_if_modified_since_answers_304_only_when_not_modified(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    url = replay_server.base_url("coingecko") + GLOBAL
    last_modified = (await client.get(url)).headers["last-modified"]

    same = await client.get(url, headers={"If-Modified-Since": last_modified})
    older = await client.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})

    assert same.status_code == 304
    assert older.status_code == 200


async def test_429_fault_answers_json_error_with_retry_after(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(status=429, retry_after="7"))

    response = await client.get(replay_server.base_url("coingecko") + GLOBAL)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"error": "injected fault", "status": 429}


async def test_delay_fault_holds_the_recorded_answer(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(delay_s=0.3))

    started = time.monotonic()
    response = await client.get(replay_server.base_url("coingecko") + GLOBAL)

    assert time.monotonic() - started >= 0.3
    assert response.content == recorded("coingecko/global.json")


async def test_hang_fault_runs_the_client_into_its_timeout(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(hang=True))

    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await client.get(replay_server.base_url("coingecko") + GLOBAL, timeout=0.3)

    assert 0.3 <= time.monotonic() - started < 2.0


async def test_stop_drops_hung_connections(client: httpx.AsyncClient) -> None:
    async with ReplayServer() as server:
        server.inject("slow", ANY, Fault(hang=True), method=ANY)
        pending = asyncio.create_task(client.get(server.base_url("slow") + "/x", timeout=10))
        async with asyncio.timeout(2):
            await server.wait_for_requests("slow")

        await asyncio.wait_for(server.stop(), timeout=2)

        with pytest.raises(httpx.TransportError):
            await asyncio.wait_for(pending, timeout=2)


async def test_reset_fault_gives_the_client_a_connection_error(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(reset=True))

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        await client.get(replay_server.base_url("coingecko") + GLOBAL)


async def test_truncate_fault_gives_the_client_a_protocol_error(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(truncate=True))

    with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
        await client.get(replay_server.base_url("coingecko") + GLOBAL)


async def test_garbage_fault_is_neither_json_nor_xml(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(garbage=True))
    replay_server.inject("cointelegraph", "/rss", Fault(garbage=True))

    body = await client.get(replay_server.base_url("coingecko") + GLOBAL)
    feed = await client.get(replay_server.base_url("cointelegraph") + "/rss")

    assert body.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body.content.decode("latin-1"))
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(feed.content)  # noqa: S314 - bytes this test served itself


async def test_oversize_fault_streams_exactly_that_many_bytes_of_valid_json(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    size = 3 * 1024 * 1024 + 1
    replay_server.inject("coingecko", GLOBAL, Fault(oversize_bytes=size))

    async with client.stream("GET", replay_server.base_url("coingecko") + GLOBAL) as response:
        body = b"".join([chunk async for chunk in response.aiter_bytes()])

    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert len(body) == size
    assert isinstance(json.loads(body), list)


async def test_oversize_fault_on_a_feed_is_valid_xml(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("cointelegraph", "/rss", Fault(oversize_bytes=100_000))

    response = await client.get(replay_server.base_url("cointelegraph") + "/rss")

    assert len(response.content) == 100_000
    assert ElementTree.fromstring(response.content).tag == "rss"  # noqa: S314 - our own bytes


async def test_fault_with_times_1_applies_once(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", GLOBAL, Fault(status=503, times=1))
    url = replay_server.base_url("coingecko") + GLOBAL

    statuses = [(await client.get(url)).status_code for _ in range(3)]

    assert statuses == [503, 200, 200]


async def test_fault_without_times_holds_until_cleared(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.inject("coingecko", ANY, Fault(status=500), method=ANY)
    url = replay_server.base_url("coingecko") + GLOBAL

    before = [(await client.get(url)).status_code for _ in range(2)]
    assert replay_server.clear_faults("coingecko") == 1
    after = (await client.get(url)).status_code

    assert (before, after) == ([500, 500], 200)


async def test_request_log_records_each_call(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    base = replay_server.base_url("binance")
    started = time.monotonic()
    await client.get(base + "/api/v3/ticker/price", params={"symbol": "BTCUSDT"})
    await client.get(base + "/api/v3/ticker/price/", params={"symbol": "BTCUSDT"})
    await client.get(base + "/api/v3/klines", headers={"X-MBX-APIKEY": "k"})

    [first, *_] = replay_server.requests
    assert replay_server.request_count("binance") == 3
    assert replay_server.request_count("binance", "/api/v3/ticker/price") == 2
    assert replay_server.request_count("kraken") == 0
    assert (first.provider, first.method, first.path) == ("binance", "GET", "/api/v3/ticker/price")
    assert first.query == {"symbol": "BTCUSDT"}
    assert first.at >= started
    assert replay_server.requests[-1].headers["x-mbx-apikey"] == "k"


async def test_add_route_beats_the_recorded_route(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    replay_server.add_route("coingecko", "GET", GLOBAL, b'{"data": {}}', headers={"X-Test": "1"})
    replay_server.add_route("newcomer", "GET", "/v1/x", b"<rss/>", content_type="text/xml")

    custom = await client.get(replay_server.base_url("coingecko") + GLOBAL)
    fresh = await client.get(replay_server.base_url("newcomer") + "/v1/x")

    assert (custom.content, custom.headers["x-test"]) == (b'{"data": {}}', "1")
    assert (fresh.content, fresh.headers["content-type"]) == (b"<rss/>", "text/xml")


async def test_control_api_injects_a_fault_from_another_client(
    replay_server: ReplayServer, client: httpx.AsyncClient
) -> None:
    control = replay_server.url + "/_replay"
    fault = {"provider": "kraken", "path": "/0/public/Ticker", "status": 429, "retry_after": "2"}

    async with httpx.AsyncClient(timeout=TIMEOUT) as other:
        assert (await other.get(control + "/health")).json()["status"] == "ok"
        assert (await other.post(control + "/faults", json=fault)).status_code == 201
        assert (await other.post(control + "/faults", json={"path": "/x"})).status_code == 400
        bad = await other.post(control + "/faults", json={**fault, "hang": True})
        assert bad.status_code == 400

    ticker = replay_server.base_url("kraken") + "/0/public/Ticker"
    limited = await client.get(ticker, params={"pair": "XBTUSDT", "api_key": "s3cret"})
    listed = (await client.get(control + "/requests", params={"provider": "kraken"})).json()
    cleared = (await client.delete(control + "/faults")).json()
    served = await client.get(ticker, params={"pair": "XBTUSDT"})

    assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    assert [r["query"] for r in listed["requests"]] == [{"pair": "XBTUSDT", "api_key": "***"}]
    assert cleared == {"cleared": 1}
    assert served.content == recorded("kraken/ticker_xbtusdt.json")
    assert replay_server.request_count("_replay") == 0


async def test_keep_alive_serves_several_requests_on_one_connection(
    replay_server: ReplayServer,
) -> None:
    port = httpx.URL(replay_server.url).port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = h11.Connection(h11.CLIENT)
    bodies = []
    try:
        for _ in range(2):
            target = "/coingecko/api/v3/simple/price?ids=bitcoin&vs_currencies=usd"
            request = h11.Request(method="GET", target=target, headers=[("Host", "replay")])
            for outgoing in (request, h11.EndOfMessage()):
                writer.write(conn.send(outgoing) or b"")
            body = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await asyncio.wait_for(reader.read(65536), timeout=3))
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
            bodies.append(body)
            conn.start_next_cycle()
    finally:
        writer.close()

    assert bodies == [recorded("coingecko/simple_price_bitcoin_usd.json")] * 2


def test_fault_rejects_contradictory_modes() -> None:
    with pytest.raises(ValueError, match="choose one"):
        Fault(hang=True, reset=True)
    with pytest.raises(ValueError, match="no status"):
        Fault(reset=True, status=500)
    with pytest.raises(ValueError, match="times"):
        Fault(status=500, times=0)


def test_bad_route_table_error_names_the_file_and_the_entry(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"{}")
    table = {
        "version": 1,
        "providers": {"p": [{"path": "/ok", "file": "a.json"}, {"path": "/x", "file": "b.json"}]},
    }
    (tmp_path / "routes.json").write_bytes(msgspec.json.encode(table))

    with pytest.raises(RouteTableError, match=r"routes\.json.*providers\.p\[1\] GET /x.*b\.json"):
        load_routes(tmp_path)

    table["providers"] = {"p": [{"path": "/ok", "file": "a.json", "status": "200"}]}
    (tmp_path / "routes.json").write_bytes(msgspec.json.encode(table))
    with pytest.raises(
        RouteTableError, match=r"routes\.json \[providers\.p\[0\]\]: Expected `int`.*\$\.status"
    ):
        load_routes(tmp_path)


async def test_module_serves_until_sigterm_and_prints_nothing() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cryptohub.common.replay",
        "--dir",
        str(FIXTURES),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    try:
        url = ""
        while not url:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=10)
            assert line, "the replay server exited before listening"
            if found := re.search(rb"listening on (http://\S+)", line):
                url = found.group(1).decode()
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            health = await http.get(url + "/_replay/health")
            global_ = await http.get(url + "/coingecko" + GLOBAL)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _ = await asyncio.wait_for(process.communicate(), timeout=10)

    assert health.json()["routes"] == len(load_routes(FIXTURES))
    assert global_.content == recorded("coingecko/global.json")
    assert (process.returncode, stdout) == (0, b"")
