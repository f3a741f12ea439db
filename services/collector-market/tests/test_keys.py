"""Keys go where each provider wants them, and the service is registered for `cryptohub up`."""

from collections.abc import AsyncIterator

import httpx
import pytest

from cryptohub.cli.services import discover
from cryptohub.collector_market.clients import make_clients
from cryptohub.collector_market.providers import coingecko
from cryptohub.collector_market.settings import Settings
from cryptohub.common.replay import ReplayServer


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.mark.parametrize(
    ("plan", "header"), [("demo", "x-cg-demo-api-key"), ("pro", "x-cg-pro-api-key")]
)
async def test_coingecko_key_header_depends_on_the_plan(
    plan: str, header: str, replay_server: ReplayServer, http: httpx.AsyncClient
) -> None:
    env = {
        "CRYPTOHUB_COINGECKO_BASE_URL": replay_server.base_url("coingecko"),
        "COINGECKO_API_KEY": "CG-test-key-0001",
    }
    clients = make_clients(Settings(coingecko_plan=plan), env, http, None)  # type: ignore[arg-type]
    market = await clients["coingecko"].fetch(coingecko.GLOBAL, coingecko.parse_global)
    assert market.total_market_cap_usd == 2142953338976.9612
    [request] = replay_server.requests
    assert request.headers[header] == "CG-test-key-0001"
    other = {"x-cg-demo-api-key", "x-cg-pro-api-key"} - {header}
    assert not other & set(request.headers)


async def test_public_plan_sends_no_key(
    replay_server: ReplayServer, http: httpx.AsyncClient
) -> None:
    env = {"CRYPTOHUB_COINGECKO_BASE_URL": replay_server.base_url("coingecko")}
    clients = make_clients(Settings(), env, http, None)
    await clients["coingecko"].fetch(coingecko.GLOBAL, coingecko.parse_global)
    [request] = replay_server.requests
    assert not {"x-cg-demo-api-key", "x-cg-pro-api-key"} & set(request.headers)


def test_cryptohub_up_finds_the_service() -> None:
    entry = discover()["collector-market"]
    assert entry.value == "cryptohub.collector_market.__main__:main"
