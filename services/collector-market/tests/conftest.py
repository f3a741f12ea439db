"""Shared fixtures of the market collector tests: recorded bodies, parse contexts, a watch list."""

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient

from cryptohub.collector_market.assets import Asset, AssetBook
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.providers import ParseContext
from cryptohub.common.testing.replay import find_provider_fixtures

FIXTURES = find_provider_fixtures(Path(__file__))
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def recorded(name: str) -> bytes:
    """A recorded provider body from fixtures/providers (see its SOURCES.md)."""
    return (FIXTURES / name).read_bytes()


def context(provider: str, endpoint: str = "test", at: datetime = NOW) -> ParseContext:
    return ParseContext(provider=provider, endpoint=endpoint, received_at=at)


@pytest.fixture
def body() -> Callable[[str], bytes]:
    """Reads a recorded body: `body("binance/klines_1m_btcusdt.json")`."""
    return recorded


@pytest.fixture
def ctx() -> Callable[..., ParseContext]:
    """Makes a ParseContext: `ctx("kraken")`, `ctx("binance", at=some_time)`."""
    return context


@pytest.fixture
def majors() -> AssetBook:
    """A watch list of a few well-known assets, named as CoinGecko names them."""
    return AssetBook(
        [
            Asset("bitcoin", "btc", "Bitcoin", 1),
            Asset("ethereum", "eth", "Ethereum", 2),
            Asset("tether", "usdt", "Tether", 3),
            Asset("binancecoin", "bnb", "BNB", 4),
            Asset("ripple", "xrp", "XRP", 5),
            Asset("dogecoin", "doge", "Dogecoin", 9),
        ]
    )


@pytest.fixture
def fresh_nats(tmp_path: Path) -> Iterator[str]:
    """A NATS server of this test's own: no fact of another test is in its streams."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def nc(fresh_nats: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(fresh_nats, connect_timeout=5)
    try:
        yield client
    finally:
        await client.close()
