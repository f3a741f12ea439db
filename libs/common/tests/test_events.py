import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

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
    ProviderStateRecord,
    ProviderStatusChange,
    RateLimitSeen,
    RejectedQuote,
    SentimentIndex,
    TvlPoint,
    WhaleTransfer,
    decode,
    decode_as,
    encode,
)

NOW = datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)
COMMON: dict[str, Any] = {"source": "coingecko", "observed_at": NOW, "received_at": NOW}

PRICE: dict[str, Any] = {"symbol": "btc", "price": 65000.5, **COMMON}
CANDLE: dict[str, Any] = {
    "symbol": "eth",
    "interval": "1h",
    "open_time": NOW - timedelta(hours=1),
    "open": 3000.0,
    "high": 3100.0,
    "low": 2950.0,
    "close": 3050.0,
    "volume": 1234.5,
    "is_final": True,
    **COMMON,
}

EVENTS: list[Event] = [
    PriceTick(**PRICE),
    PriceTick(
        symbol="btc",
        price=65010.0,
        volume_24h=3.2e10,
        market_cap=1.28e12,
        change_24h_pct=-2.5,
        contributors=("binance", "coingecko", "kraken"),
        rejected=(RejectedQuote(provider="badex", price=70000.0, deviation_pct=7.7),),
        spread_pct=0.04,
        confidence=0.9,
        source="consensus",
        observed_at=NOW,
        received_at=NOW,
    ),
    Candle(**CANDLE),
    MarketGlobal(
        total_market_cap_usd=2.4e12,
        total_volume_usd=9.1e10,
        btc_dominance_pct=53.2,
        eth_dominance_pct=17.1,
        active_cryptocurrencies=12000,
        market_cap_change_24h_pct=-1.2,
        **COMMON,
    ),
    TvlPoint(protocol="aave-v3", tvl_usd=1.1e10, chain="ethereum", change_1d_pct=0.3, **COMMON),
    GasQuote(
        chain="ethereum",
        slow_gwei=8.0,
        standard_gwei=10.0,
        fast_gwei=14.5,
        base_fee_gwei=7.9,
        block_number=21_000_000,
        **COMMON,
    ),
    BlockHead(chain="bitcoin", number=870_000, hash="00000000abc", tx_count=3100, **COMMON),
    WhaleTransfer(
        chain="ethereum",
        tx_hash="0xabc",
        from_address="0xFrom",
        to_address="0xTo",
        symbol="usdt",
        amount=25_000_000.0,
        usd_value=25_000_000.0,
        block_number=21_000_001,
        **COMMON,
    ),
    Article(
        id="cointelegraph:123",
        url="https://example.com/a",
        title="Bitcoin rallies",
        summary="It went up.",
        outlet="Example News",
        language="en",
        symbols=("btc", "eth"),
        **COMMON,
    ),
    ArticleSentiment(
        article_id="cointelegraph:123",
        model="ProsusAI/finbert",
        model_revision="4556d13",
        label="bullish",
        score=0.8,
        probabilities={"bullish": 0.85, "neutral": 0.1, "bearish": 0.05},
        **COMMON,
    ),
    AssetSentiment(
        symbol="btc",
        window="24h",
        score=0.3,
        label="bullish",
        article_count=42,
        confidence=0.7,
        **COMMON,
    ),
    SentimentIndex(name="fear_greed", value=72, classification="Greed", **COMMON),
    ProviderAttempt(
        provider="coingecko",
        endpoint="simple_price",
        ok=False,
        status=429,
        latency_ms=123.4,
        error_kind="rate_limited",
        error="429 Too Many Requests",
        attempt=2,
        rate_limit=RateLimitSeen(limit=30, remaining=0, reset_seconds=41.0),
        **COMMON,
    ),
    ProviderStatusChange(
        provider="coingecko",
        previous="online",
        current="degraded",
        reason="error rate 40% over 5 min",
        **COMMON,
    ),
    Alert(
        id="provider_offline:coingecko",
        rule="provider_offline",
        severity="critical",
        state="open",
        message="coingecko is offline",
        provider="coingecko",
        category="market",
        **COMMON,
    ),
]


def test_every_event_kind_has_a_sample() -> None:
    assert {type(event) for event in EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: type(event).__name__)
def test_event_round_trips_through_json(event: Event) -> None:
    data = encode(event)

    assert decode(data) == event
    assert decode_as(data, type(event)) == event
    assert json.loads(data)["type"] == type(event).__struct_config__.tag


def test_tags_are_snake_case_class_names() -> None:
    assert PriceTick.__struct_config__.tag == "price_tick"
    assert ProviderStatusChange.__struct_config__.tag == "provider_status_change"


def test_provider_state_record_round_trips_as_its_own_kind() -> None:
    record = ProviderStateRecord(
        provider="coingecko",
        state="half_open",
        reason="probing after 60 s offline",
        since=NOW,
        next_probe_at=NOW + timedelta(seconds=30),
        success_rate=0.5,
        p50_ms=120.0,
        p95_ms=800.0,
        calls=10,
        last_error="timeout",
    )

    assert decode_as(encode(record), ProviderStateRecord) == record


def test_provider_state_record_is_not_an_event() -> None:
    record = ProviderStateRecord(provider="coingecko", state="online", reason="", since=NOW)

    with pytest.raises(msgspec.ValidationError):
        decode(encode(record))


def test_datetimes_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))

    tick = PriceTick(**{**PRICE, "observed_at": NOW.astimezone(paris)})

    assert tick.observed_at.tzinfo is UTC
    assert tick.observed_at == NOW


def test_decoded_offset_datetimes_are_converted_to_utc() -> None:
    data = encode(PriceTick(**PRICE)).replace(b'15.123456Z"', b'15.123456+02:00"', 1)

    tick = decode(data)

    assert tick.observed_at.tzinfo is UTC
    assert tick.observed_at == NOW - timedelta(hours=2)


def test_integer_prices_are_stored_as_floats() -> None:
    tick = PriceTick(**{**PRICE, "price": 65000})

    assert type(tick.price) is float


def test_events_are_frozen() -> None:
    tick = PriceTick(**PRICE)

    with pytest.raises(AttributeError):
        tick.price = 1.0  # type: ignore[misc]


def test_unknown_fields_are_ignored_so_producers_can_add_fields() -> None:
    data = json.loads(encode(PriceTick(**PRICE)))
    data["added_later"] = 1

    assert decode(json.dumps(data).encode()) == PriceTick(**PRICE)


# Each kind of invalid value, as (kind, valid fields, field, bad value, words the message holds).
INVALID: list[tuple[type[Event], dict[str, Any], str, Any, str]] = [
    (PriceTick, PRICE, "price", float("nan"), "finite"),
    (PriceTick, PRICE, "price", float("inf"), "finite"),
    (PriceTick, PRICE, "price", 0.0, "> 0"),
    (PriceTick, PRICE, "price", -1.0, "> 0"),
    (PriceTick, PRICE, "observed_at", datetime(2026, 11, 21, 9, 30), "timezone-aware"),  # noqa: DTZ001
    (PriceTick, PRICE, "received_at", datetime(2026, 11, 21, 9, 30), "timezone-aware"),  # noqa: DTZ001
    (PriceTick, PRICE, "symbol", "", "non-empty"),
    (PriceTick, PRICE, "symbol", "BTC", "lower-case"),
    (PriceTick, PRICE, "symbol", "btc.e", "lower-case"),
    (PriceTick, PRICE, "symbol", "btc\n", "lower-case"),
    (PriceTick, PRICE, "source", "CoinGecko", "lower-case"),
    (PriceTick, PRICE, "volume_24h", -5.0, ">= 0"),
    (PriceTick, PRICE, "change_24h_pct", float("-inf"), "finite"),
    (PriceTick, PRICE, "confidence", 1.5, "[0, 1]"),
    (Candle, CANDLE, "interval", "2m", "one of"),
    (Candle, CANDLE, "volume", -1.0, ">= 0"),
    (Candle, CANDLE, "open_time", datetime(2026, 11, 21, 8), "timezone-aware"),  # noqa: DTZ001
]


@pytest.mark.parametrize(
    ("kind", "valid", "field", "bad", "words"),
    INVALID,
    ids=[f"{kind.__name__}.{field}={bad!r}" for kind, _, field, bad, _ in INVALID],
)
def test_invalid_value_is_rejected_on_construction_naming_the_field(
    kind: type[Event], valid: dict[str, Any], field: str, bad: Any, words: str
) -> None:
    with pytest.raises(ValueError, match=field) as caught:
        kind(**{**valid, field: bad})

    assert words in str(caught.value)


def _json_with(valid: dict[str, Any], kind: type[Event], field: str, raw: str) -> bytes:
    """The JSON of a valid event with `field` replaced by the literal JSON `raw`."""
    data = json.loads(encode(kind(**valid)))
    data[field] = "__RAW__"
    return json.dumps(data).replace('"__RAW__"', raw).encode()


INVALID_JSON: list[tuple[type[Event], dict[str, Any], str, str]] = [
    (PriceTick, PRICE, "price", "1e999"),  # JSON has no NaN; this overflows to infinity
    (PriceTick, PRICE, "price", "0"),
    (PriceTick, PRICE, "price", "-3.5"),
    (PriceTick, PRICE, "observed_at", '"2026-11-21T09:30:00"'),
    (PriceTick, PRICE, "symbol", '""'),
    (PriceTick, PRICE, "symbol", '"BTC"'),
    (PriceTick, PRICE, "volume_24h", "-5"),
    (PriceTick, PRICE, "confidence", "1.5"),
    (Candle, CANDLE, "interval", '"2m"'),
    (Candle, CANDLE, "volume", "-1"),
]


@pytest.mark.parametrize(
    ("kind", "valid", "field", "raw"),
    INVALID_JSON,
    ids=[f"{kind.__name__}.{field}={raw}" for kind, _, field, raw in INVALID_JSON],
)
def test_invalid_value_is_rejected_on_decode_naming_the_field(
    kind: type[Event], valid: dict[str, Any], field: str, raw: str
) -> None:
    data = _json_with(valid, kind, field, raw)

    with pytest.raises(msgspec.ValidationError, match=field):
        decode(data)
    with pytest.raises(msgspec.ValidationError, match=field):
        decode_as(data, kind)


def test_each_symbol_of_an_article_must_be_valid() -> None:
    with pytest.raises(ValueError, match=r"symbols\[1\]"):
        Article(id="a", url="https://x", title="t", symbols=("btc", "ETH"), **COMMON)


def test_each_probability_must_be_within_0_and_1() -> None:
    with pytest.raises(ValueError, match=r"probabilities\['bullish'\]"):
        ArticleSentiment(
            article_id="a",
            model="m",
            label="bullish",
            score=0.5,
            probabilities={"bullish": 1.2},
            **COMMON,
        )


def test_nested_struct_values_are_validated() -> None:
    with pytest.raises(ValueError, match="price"):
        RejectedQuote(provider="badex", price=-1.0, deviation_pct=3.0)


@pytest.mark.parametrize(("field", "bad"), [("score", 1.01), ("score", -1.5), ("confidence", -0.1)])
def test_sentiment_score_and_confidence_stay_in_range(field: str, bad: float) -> None:
    valid = {
        "symbol": "btc",
        "window": "1h",
        "score": 0.0,
        "label": "neutral",
        "article_count": 0,
        "confidence": 0.5,
        **COMMON,
    }

    with pytest.raises(ValueError, match=field):
        AssetSentiment(**{**valid, field: bad})


@pytest.mark.parametrize("value", [-1, 101])
def test_sentiment_index_value_is_0_to_100(value: int) -> None:
    with pytest.raises(ValueError, match="value"):
        SentimentIndex(name="fear_greed", value=value, classification="Greed", **COMMON)


def test_btc_dominance_is_a_percentage() -> None:
    with pytest.raises(ValueError, match="btc_dominance_pct"):
        MarketGlobal(
            total_market_cap_usd=1.0, total_volume_usd=1.0, btc_dominance_pct=120.0, **COMMON
        )


def test_whale_transfer_amount_must_be_positive() -> None:
    with pytest.raises(ValueError, match="amount"):
        WhaleTransfer(
            chain="ethereum",
            tx_hash="0x1",
            from_address="a",
            to_address="b",
            symbol="eth",
            amount=0.0,
            **COMMON,
        )


def test_article_title_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="title"):
        Article(id="a", url="https://x", title="", **COMMON)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"high": 3040.0}, "high"),  # below close
        ({"high": 2990.0}, "high"),  # below open
        ({"low": 3010.0}, "low"),  # above open
    ],
)
def test_candle_high_and_low_must_bound_open_and_close(
    changes: dict[str, float], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        Candle(**{**CANDLE, **changes})


def test_inconsistent_candle_is_rejected_on_decode() -> None:
    data = _json_with(CANDLE, Candle, "high", "10")

    with pytest.raises(msgspec.ValidationError, match="high"):
        decode(data)


def test_provider_attempt_retry_number_starts_at_1() -> None:
    with pytest.raises(ValueError, match="attempt"):
        ProviderAttempt(
            provider="coingecko", endpoint="x", ok=True, latency_ms=1.0, attempt=0, **COMMON
        )


def test_unknown_error_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="error_kind"):
        ProviderAttempt(
            provider="coingecko",
            endpoint="x",
            ok=False,
            latency_ms=1.0,
            error_kind="boom",  # type: ignore[arg-type]
            **COMMON,
        )


def test_construction_is_fully_checked_after_a_failed_decode() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode(b'{"type": "price_tick"}')

    with pytest.raises(ValueError, match="price"):
        PriceTick(**{**PRICE, "price": float("nan")})
