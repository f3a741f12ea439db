"""The data REST tests read: one of each kind, with known values, published as collectors do."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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
    RejectedQuote,
    SentimentIndex,
    TvlPoint,
    WhaleTransfer,
)
from cryptohub.gateway.testing.events import at, tick

__all__ = ["ADMIN_KEY", "Seed", "make_articles", "seed_events"]

ADMIN_KEY = "admin-" + secrets.token_hex(8)


@dataclass
class Seed:
    base: str
    btc: str  # a symbol with a fresh consensus and two providers
    old: str  # a symbol whose consensus is an hour old
    chain: str
    provider: str
    alert_open: str
    alert_resolved: str
    articles: list[Article]


def c(source: str = "coingecko", seconds_ago: float = 0.0) -> dict[str, Any]:
    moment = at(seconds_ago)
    return {"source": source, "observed_at": moment, "received_at": moment}


def seed_events(s: Seed) -> list[Event]:
    btc, chain = s.btc, s.chain
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    events: list[Event] = [
        tick(
            btc,
            90000.0,
            contributors=("binance", "coingecko"),
            rejected=(RejectedQuote(provider="kraken", price=95000.0, deviation_pct=5.5),),
            spread_pct=0.1,
            confidence=0.9,
            market_cap=1.8e12,
            volume_24h=3e10,
            change_24h_pct=-1.2,
        ),
        tick(btc, 90010.0, source="binance"),
        tick(btc, 89990.0, source="coingecko"),
        tick(s.old, 2.0, seconds_ago=3600, market_cap=1e6),
        MarketGlobal(
            total_market_cap_usd=3.1e12,
            total_volume_usd=1.2e11,
            btc_dominance_pct=57.123,
            eth_dominance_pct=12.345,
            active_cryptocurrencies=10000,
            **c(),
        ),
        TvlPoint(protocol=f"aave-{btc}", tvl_usd=2e10, change_1d_pct=0.5, **c("defillama")),
        TvlPoint(protocol=f"lido-{btc}", tvl_usd=3e10, **c("defillama")),
        GasQuote(
            chain=chain,
            slow_gwei=10.0,
            standard_gwei=12.0,
            fast_gwei=15.0,
            base_fee_gwei=9.5,
            block_number=100,
            **c("etherscan"),
        ),
        SentimentIndex(
            name="fear-greed", value=23, classification="Extreme Fear", **c("alternative-me")
        ),
        SentimentIndex(
            name="fear-greed", value=30, classification="Fear", **c("alternative-me", 86400 * 2)
        ),
        AssetSentiment(
            symbol=btc,
            window="24h",
            score=0.4,
            label="bullish",
            article_count=12,
            confidence=0.8,
            **c("sentiment"),
        ),
        AssetSentiment(
            symbol=btc,
            window="1h",
            score=-0.1,
            label="neutral",
            article_count=2,
            confidence=0.5,
            **c("sentiment"),
        ),
        Alert(
            id=s.alert_open,
            rule="provider_down",
            severity="critical",
            state="open",
            message="down",
            provider=s.provider,
            **c("health", 30),
        ),
        Alert(
            id=s.alert_resolved,
            rule="provider_slow",
            severity="warning",
            state="open",
            message="slow",
            provider=s.provider,
            **c("health", 60),
        ),
        Alert(
            id=s.alert_resolved,
            rule="provider_slow",
            severity="warning",
            state="resolved",
            message="fine again",
            provider=s.provider,
            **c("health", 10),
        ),
    ]
    events.extend(
        Candle(
            symbol=btc,
            interval="1h",
            open_time=hour - timedelta(hours=5 - i),
            open=100.0 + i,
            high=110.0 + i,
            low=90.0 + i,
            close=105.0 + i,
            volume=1.0 + i,
            is_final=True,
            **c("binance"),
        )
        for i in range(5)
    )
    for i in range(3):
        events.append(
            BlockHead(
                chain=chain,
                number=500 + i,
                hash=f"0x{500 + i:x}",
                tx_count=10 + i,
                **c("etherscan", 30 - i),
            )
        )
        events.append(
            WhaleTransfer(
                chain=chain,
                tx_hash=f"0xw{i}{btc}",
                from_address=f"0xf{i}",
                to_address=f"0xt{i}",
                symbol="eth",
                amount=1000.0 * (i + 1),
                usd_value=1e6 * (i + 1),
                **c("etherscan", 30 - i),
            )
        )
    events += s.articles
    events.append(
        ArticleSentiment(
            article_id=s.articles[0].id,
            model="finbert",
            label="bullish",
            score=0.7,
            **c("sentiment"),
        )
    )
    return events


def make_articles(btc: str) -> list[Article]:
    return [
        Article(
            id=f"n1-{btc}",
            url="https://a.example/1",
            title="BTC up",
            summary="x" * 300,
            outlet="CoinDesk",
            symbols=(btc,),
            **c("cryptopanic", 100),
        ),
        Article(
            id=f"n2-{btc}",
            url="https://a.example/2",
            title="ETH flat",
            summary="short",
            outlet="Decrypt",
            symbols=("eth",),
            **c("rss", 200),
        ),
        Article(
            id=f"n3-{btc}",
            url="https://a.example/3",
            title="BTC down",
            summary="",
            outlet="CoinDesk",
            symbols=(btc, "eth"),
            **c("cryptopanic", 300),
        ),
    ]
