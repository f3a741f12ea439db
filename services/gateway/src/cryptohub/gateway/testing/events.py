"""Events for gateway tests, and publishing them the way collectors do (with their fact id)."""

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext

from cryptohub.common.events import (
    Alert,
    Article,
    ArticleSentiment,
    AssetSentiment,
    BlockHead,
    Candle,
    Event,
    GasQuote,
    MarketGlobal,
    PriceTick,
    ProviderAttempt,
    ProviderStatusChange,
    SentimentIndex,
    TvlPoint,
    WhaleTransfer,
    encode,
)
from cryptohub.common.ids import message_id
from cryptohub.common.streams import stream_for_subject
from cryptohub.common.subjects import subject_for

_counter = itertools.count(1)


def sym() -> str:
    """A ticker no other test uses."""
    return f"t{secrets.token_hex(3)}"


def at(seconds_ago: float = 0.0) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds_ago)


def common(source: str = "coingecko", seconds_ago: float = 0.0) -> dict[str, Any]:
    moment = at(seconds_ago)
    return {"source": source, "observed_at": moment, "received_at": moment}


def tick(
    symbol: str, price: float, *, source: str = "consensus", seconds_ago: float = 0.0, **fields: Any
) -> PriceTick:
    return PriceTick(symbol=symbol, price=price, **common(source, seconds_ago), **fields)


def one_of_each(symbol: str, chain: str = "ethereum") -> list[Event]:
    """One event of every kind, all about `symbol` / `chain`."""
    n = next(_counter)
    c = common()
    return [
        tick(symbol, 100.0 + n),
        Candle(
            symbol=symbol,
            interval="1h",
            open_time=at(3600),
            open=1.0,
            high=2.0,
            low=0.5,
            close=1.5,
            volume=10.0,
            is_final=True,
            **c,
        ),
        MarketGlobal(
            total_market_cap_usd=2.5e12,
            total_volume_usd=9.9e10,
            btc_dominance_pct=55.0,
            eth_dominance_pct=14.0,
            **c,
        ),
        TvlPoint(protocol=f"proto-{symbol}", tvl_usd=1e9, **c),
        GasQuote(chain=chain, slow_gwei=1.0, standard_gwei=2.0, fast_gwei=3.0, **c),
        BlockHead(chain=chain, number=1000 + n, hash=f"0x{n:x}", tx_count=12, **c),
        WhaleTransfer(
            chain=chain,
            tx_hash=f"0xw{symbol}{n}",
            from_address="0xa",
            to_address="0xb",
            symbol=symbol,
            amount=500.0,
            usd_value=2e6,
            **c,
        ),
        Article(
            id=f"a-{symbol}-{n}",
            url="https://news.example/a",
            title="Title",
            symbols=(symbol, "btc"),
            **c,
        ),
        ArticleSentiment(
            article_id=f"a-{symbol}-{n}", model="finbert", label="bullish", score=0.5, **c
        ),
        AssetSentiment(
            symbol=symbol,
            window="24h",
            score=0.2,
            label="neutral",
            article_count=3,
            confidence=0.7,
            **c,
        ),
        SentimentIndex(name=f"fng-{symbol}", value=42, classification="Fear", **c),
        ProviderAttempt(
            provider=f"p-{symbol}", endpoint="/x", ok=True, status=200, latency_ms=12.5, **c
        ),
        ProviderStatusChange(
            provider=f"p-{symbol}", previous="online", current="degraded", reason="slow", **c
        ),
        Alert(
            id=f"al-{symbol}",
            rule="provider_degraded",
            severity="warning",
            state="open",
            message="slow",
            provider=f"p-{symbol}",
            **c,
        ),
    ]


async def publish(js: JetStreamContext, event: Event, *, with_id: bool = True) -> int:
    """Publish as collectors do (Nats-Msg-Id = the fact id); the stream sequence."""
    subject = subject_for(event)
    headers = {"Nats-Msg-Id": message_id(event)} if with_id else None
    ack = await js.publish(
        subject, encode(event), stream=stream_for_subject(subject).name, headers=headers
    )
    return ack.seq
