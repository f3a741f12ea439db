"""Fixtures of the sentiment tests: a tiny BERT classifier built here, settings, event capture."""

import asyncio
import importlib.util
import json
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from cryptohub.common import subjects
from cryptohub.common.events import Article, ArticleSentiment, AssetSentiment, decode
from cryptohub.common.testing import unique_name
from cryptohub.sentiment.settings import Settings
from cryptohub.sentiment.synthetic import build_classifier

NO_TORCH = "PyTorch is not installed (the optional `bert` extra; `make install-bert` adds it)"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("torch") is None:
        pytest.skip(NO_TORCH)
    return build_classifier(
        tmp_path_factory.mktemp("tiny-bert"),
        id2label={0: "Bearish", 1: "Neutral", 2: "Bullish"},
    )


@pytest.fixture
def make_settings(nats_url: str) -> Callable[..., Settings]:
    """Settings for one test: its own consumer and buckets, new articles only, fast refresh."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "nats_url": nats_url,
            "sentiment_consumer": unique_name("sentiment"),
            "sentiment_scored_bucket": unique_name("scored"),
            "sentiment_assets_bucket": unique_name("assets"),
            "sentiment_backfill_hours": 0,
            "sentiment_batch_wait_ms": 20,
            "sentiment_refresh_s": 3600,
            "sentiment_hf_cache_dir": None,
        }
        values.update(overrides)
        return Settings(**values)

    return make


def _make_article(title: str, *, symbols: tuple[str, ...] = ("btc",), **fields: Any) -> Article:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "source": "rss",
        "observed_at": now,
        "received_at": now,
        "id": f"test-{secrets.token_hex(6)}",
        "url": "https://example.invalid/article",
        "title": title,
        "symbols": symbols,
    }
    values.update(fields)
    return Article(**values)


def _raw_article(**fields: Any) -> bytes:
    """An article payload as JSON, bypassing validation (to send malformed ones)."""
    now = datetime.now(UTC).isoformat()
    payload: dict[str, Any] = {
        "type": "article",
        "source": "rss",
        "observed_at": now,
        "received_at": now,
        "id": f"test-{secrets.token_hex(6)}",
        "url": "https://example.invalid/article",
        "title": "A title",
    }
    payload.update(fields)
    return json.dumps(payload).encode()


class Captured:
    """Every ArticleSentiment and AssetSentiment seen on NATS during a test."""

    def __init__(self) -> None:
        self.articles: list[ArticleSentiment] = []
        self.assets: list[AssetSentiment] = []
        self._changed = asyncio.Event()

    async def on_message(self, msg: Msg) -> None:
        event = decode(msg.data)
        if isinstance(event, ArticleSentiment):
            self.articles.append(event)
        elif isinstance(event, AssetSentiment):
            self.assets.append(event)
        self._changed.set()

    def for_article(self, article_id: str) -> list[ArticleSentiment]:
        return [e for e in self.articles if e.article_id == article_id]

    async def wait_for(self, condition: Callable[[], bool], within: float = 20.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@pytest_asyncio.fixture
async def captured(nats_client: NatsClient) -> AsyncIterator[Captured]:
    sink = Captured()
    subs = [
        await nats_client.subscribe(subjects.article_sentiment(), cb=sink.on_message),
        await nats_client.subscribe(subjects.all_asset_sentiment(), cb=sink.on_message),
    ]
    await nats_client.flush()
    yield sink
    for sub in subs:
        await sub.unsubscribe()


@pytest.fixture
def recorded() -> Callable[[str], str]:
    """The text of a recorded provider body, to show a quoted headline is really in it."""
    root = Path(__file__).resolve().parents[3] / "fixtures" / "providers"

    def read(relative: str) -> str:
        return (root / relative).read_text(encoding="utf-8")

    return read


@pytest.fixture
def make_article() -> Callable[..., Article]:
    """A valid Article published now, with a unique id; keyword fields override."""
    return _make_article


@pytest.fixture
def raw_article() -> Callable[..., bytes]:
    """An article payload as JSON, not validated (to send malformed ones)."""
    return _raw_article


@pytest.fixture
def torch_required() -> None:
    if importlib.util.find_spec("torch") is None:
        pytest.skip(NO_TORCH)
