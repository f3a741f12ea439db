from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from cryptohub.common.events import (
    Alert,
    Article,
    BlockHead,
    Candle,
    Event,
    MarketGlobal,
    PriceTick,
    ProviderAttempt,
    decode,
    encode,
)
from cryptohub.common.ids import message_id, natural_key

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(seconds=1)
COMMON: dict[str, Any] = {"source": "coingecko", "observed_at": NOW, "received_at": NOW}

TICK = PriceTick(symbol="btc", price=65000.0, **COMMON)
CANDLE = Candle(
    symbol="btc",
    interval="1m",
    open_time=NOW,
    open=1.0,
    high=2.0,
    low=0.5,
    close=1.5,
    volume=3.0,
    is_final=False,
    **COMMON,
)
ATTEMPT = ProviderAttempt(
    provider="coingecko", endpoint="simple_price", ok=True, latency_ms=80.0, **COMMON
)
ALERT = Alert(
    id="a1", rule="provider_offline", severity="critical", state="open", message="m", **COMMON
)


def test_id_is_32_hex_chars() -> None:
    mid = message_id(TICK)

    assert len(mid) == 32
    assert set(mid) <= set("0123456789abcdef")


def test_same_fact_gets_the_same_id() -> None:
    again = PriceTick(symbol="btc", price=65000.0, **COMMON)

    assert message_id(again) == message_id(TICK)


def test_same_fact_received_later_by_another_replica_gets_the_same_id() -> None:
    other_replica = msgspec.structs.replace(TICK, received_at=LATER)

    assert message_id(other_replica) == message_id(TICK)


def test_id_survives_a_round_trip_through_json() -> None:
    assert message_id(decode(encode(CANDLE))) == message_id(CANDLE)


def test_observed_at_in_another_time_zone_is_the_same_instant() -> None:
    shifted = msgspec.structs.replace(
        TICK, observed_at=NOW.astimezone(timezone(timedelta(hours=5)))
    )

    assert message_id(shifted) == message_id(TICK)


@pytest.mark.parametrize(
    ("event", "changes"),
    [
        (TICK, {"observed_at": LATER}),
        (TICK, {"symbol": "eth"}),
        (TICK, {"quote": "eur"}),
        (TICK, {"source": "binance"}),
        (CANDLE, {"open_time": LATER}),
        (CANDLE, {"interval": "5m"}),
        (CANDLE, {"is_final": True}),
        (ATTEMPT, {"attempt": 2}),
        (ATTEMPT, {"received_at": LATER}),
        (ALERT, {"state": "resolved"}),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, msgspec.Struct) else "-".join(v),
)
def test_a_different_fact_gets_a_different_id(event: Event, changes: dict[str, Any]) -> None:
    changed = msgspec.structs.replace(event, **changes)

    assert message_id(changed) != message_id(event)


def test_a_changed_value_of_the_same_fact_keeps_the_id() -> None:
    # A provider restating the price for the same instant is the same fact; the first one wins.
    restated = msgspec.structs.replace(TICK, price=65001.0)

    assert message_id(restated) == message_id(TICK)


def test_kinds_with_the_same_key_get_different_ids() -> None:
    block = BlockHead(chain="btc", number=1, hash="h", tx_count=0, **COMMON)
    article = Article(id="btc", url="u", title="t", **COMMON)

    assert message_id(block) != message_id(article)


def test_natural_key_of_a_keyless_kind_is_empty() -> None:
    market = MarketGlobal(
        total_market_cap_usd=1.0, total_volume_usd=1.0, btc_dominance_pct=50.0, **COMMON
    )

    assert natural_key(market) == ()
