"""Fixtures of the collector-news tests: recorded bodies, parse contexts, a private NATS."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cryptohub.collector_news.dates import DatePolicy
from cryptohub.collector_news.normalise import Normaliser
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.providers import ParseContext
from cryptohub.common.testing.replay import find_provider_fixtures

# The recorded bodies are from 2016-2026; this policy accepts them (the default keeps 7 days).
RECORDED_ERA = DatePolicy(max_age=timedelta(days=365 * 20))
RECEIVED_AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return find_provider_fixtures(Path(__file__).parent)


@pytest.fixture
def recorded(fixtures_dir: Path) -> Callable[[str], bytes]:
    """A recorded body, byte for byte: `recorded("rss/coindesk.xml")`."""
    return lambda relative: (fixtures_dir / relative).read_bytes()


@pytest.fixture
def ctx() -> Callable[[str], ParseContext]:
    """The parse context of a body received at RECEIVED_AT from `provider`."""
    return lambda provider: ParseContext(
        provider=provider, endpoint="test", received_at=RECEIVED_AT
    )


@pytest.fixture
def recorded_era() -> Callable[[str], Normaliser]:
    """A normaliser for `source` that accepts the recorded bodies' dates."""
    return lambda source: Normaliser(source, RECORDED_ERA)


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS server of this test alone: the Fear & Greed subject and the dedupe bucket are
    shared names, and a first start must find them empty."""
    with EmbeddedNats(tmp_path / "nats") as server:
        yield server
