from datetime import UTC, datetime
from typing import Any

import pytest

from cryptohub.common import subjects
from cryptohub.common.events import (
    EVENT_TYPES,
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
)
from cryptohub.common.streams import stream_for_subject

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
COMMON: dict[str, Any] = {"source": "coingecko", "observed_at": NOW, "received_at": NOW}

EVENT_SUBJECTS: list[tuple[Event, str]] = [
    (PriceTick(symbol="btc", price=1.0, **COMMON), "cryptohub.v1.market.price.btc"),
    (
        Candle(
            symbol="eth",
            interval="15m",
            open_time=NOW,
            open=1.0,
            high=2.0,
            low=0.5,
            close=1.5,
            volume=10.0,
            is_final=False,
            **COMMON,
        ),
        "cryptohub.v1.market.ohlcv.eth.15m",
    ),
    (
        MarketGlobal(
            total_market_cap_usd=1.0, total_volume_usd=1.0, btc_dominance_pct=50.0, **COMMON
        ),
        "cryptohub.v1.market.global",
    ),
    (TvlPoint(protocol="aave-v3", tvl_usd=1.0, **COMMON), "cryptohub.v1.defi.tvl.aave-v3"),
    (
        GasQuote(chain="ethereum", slow_gwei=1.0, standard_gwei=2.0, fast_gwei=3.0, **COMMON),
        "cryptohub.v1.chain.gas.ethereum",
    ),
    (
        BlockHead(chain="bsc", number=1, hash="0x1", tx_count=0, **COMMON),
        "cryptohub.v1.chain.block.bsc",
    ),
    (
        WhaleTransfer(
            chain="bitcoin",
            tx_hash="t",
            from_address="a",
            to_address="b",
            symbol="btc",
            amount=500.0,
            **COMMON,
        ),
        "cryptohub.v1.chain.whale.bitcoin",
    ),
    (Article(id="a1", url="https://x", title="t", **COMMON), "cryptohub.v1.news.article"),
    (
        ArticleSentiment(article_id="a1", model="m", label="neutral", score=0.0, **COMMON),
        "cryptohub.v1.sentiment.article",
    ),
    (
        AssetSentiment(
            symbol="sol",
            window="1h",
            score=0.1,
            label="neutral",
            article_count=3,
            confidence=0.2,
            **COMMON,
        ),
        "cryptohub.v1.sentiment.asset.sol",
    ),
    (
        SentimentIndex(name="fear_greed", value=50, classification="Neutral", **COMMON),
        "cryptohub.v1.sentiment.index.fear_greed",
    ),
    (
        ProviderAttempt(provider="binance", endpoint="ticker", ok=True, latency_ms=5.0, **COMMON),
        "cryptohub.v1.provider.attempt.binance",
    ),
    (
        ProviderStatusChange(
            provider="binance", previous="online", current="offline", reason="down", **COMMON
        ),
        "cryptohub.v1.provider.status.binance",
    ),
    (
        Alert(id="x", rule="r", severity="warning", state="open", message="m", **COMMON),
        "cryptohub.v1.alert.warning",
    ),
]


def test_every_event_kind_has_a_subject() -> None:
    assert {type(event) for event, _ in EVENT_SUBJECTS} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("event", "subject"), EVENT_SUBJECTS, ids=[type(e).__name__ for e, _ in EVENT_SUBJECTS]
)
def test_subject_for_builds_the_documented_subject(event: Event, subject: str) -> None:
    assert subjects.subject_for(event) == subject


@pytest.mark.parametrize(
    ("event", "subject"), EVENT_SUBJECTS, ids=[type(e).__name__ for e, _ in EVENT_SUBJECTS]
)
def test_every_subject_is_stored_in_a_stream_and_matched_by_its_wildcard(
    event: Event, subject: str
) -> None:
    stream = stream_for_subject(subject)
    pattern = subjects.wildcard(type(event)).split(".")
    tokens = subject.split(".")

    assert subject.startswith(subjects.PREFIX + ".")
    assert stream.name
    assert len(pattern) == len(tokens)
    assert all(p in ("*", t) for p, t in zip(pattern, tokens, strict=True))


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (subjects.price("btc"), "cryptohub.v1.market.price.btc"),
        (subjects.ohlcv("btc", "1d"), "cryptohub.v1.market.ohlcv.btc.1d"),
        (subjects.market_global(), "cryptohub.v1.market.global"),
        (subjects.tvl("lido"), "cryptohub.v1.defi.tvl.lido"),
        (subjects.gas("ethereum"), "cryptohub.v1.chain.gas.ethereum"),
        (subjects.block("ethereum"), "cryptohub.v1.chain.block.ethereum"),
        (subjects.whale("ethereum"), "cryptohub.v1.chain.whale.ethereum"),
        (subjects.news_article(), "cryptohub.v1.news.article"),
        (subjects.article_sentiment(), "cryptohub.v1.sentiment.article"),
        (subjects.asset_sentiment("btc"), "cryptohub.v1.sentiment.asset.btc"),
        (subjects.sentiment_index("fear_greed"), "cryptohub.v1.sentiment.index.fear_greed"),
        (subjects.provider_attempt("coingecko"), "cryptohub.v1.provider.attempt.coingecko"),
        (subjects.provider_status("coingecko"), "cryptohub.v1.provider.status.coingecko"),
        (subjects.alert("critical"), "cryptohub.v1.alert.critical"),
    ],
)
def test_builders_spell_the_subject_table(built: str, expected: str) -> None:
    assert built == expected


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (subjects.all_prices(), "cryptohub.v1.market.price.*"),
        (subjects.all_candles(), "cryptohub.v1.market.ohlcv.*.*"),
        (subjects.all_tvl(), "cryptohub.v1.defi.tvl.*"),
        (subjects.all_gas(), "cryptohub.v1.chain.gas.*"),
        (subjects.all_blocks(), "cryptohub.v1.chain.block.*"),
        (subjects.all_whales(), "cryptohub.v1.chain.whale.*"),
        (subjects.all_asset_sentiment(), "cryptohub.v1.sentiment.asset.*"),
        (subjects.all_sentiment_indexes(), "cryptohub.v1.sentiment.index.*"),
        (subjects.all_provider_attempts(), "cryptohub.v1.provider.attempt.*"),
        (subjects.all_provider_statuses(), "cryptohub.v1.provider.status.*"),
        (subjects.all_alerts(), "cryptohub.v1.alert.*"),
        (subjects.wildcard(MarketGlobal), "cryptohub.v1.market.global"),
        (subjects.tree("market"), "cryptohub.v1.market.>"),
        (subjects.everything(), "cryptohub.v1.>"),
    ],
)
def test_wildcards_match_every_subject_of_a_kind(built: str, expected: str) -> None:
    assert built == expected


def test_pattern_names_the_placeholders_for_docs() -> None:
    assert subjects.pattern(Candle) == "cryptohub.v1.market.ohlcv.{symbol}.{interval}"


@pytest.mark.parametrize("token", ["", "BTC", "btc.e", "b tc", "*", ">", "btc*", "-btc", "btc\n"])
def test_invalid_token_is_rejected_naming_the_parameter(token: str) -> None:
    with pytest.raises(ValueError, match="symbol must be a lower-case subject token"):
        subjects.price(token)


def test_invalid_provider_token_is_rejected() -> None:
    with pytest.raises(ValueError, match="provider"):
        subjects.provider_attempt("Coin Gecko")
