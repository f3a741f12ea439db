"""Which candles a series publishes: finals once, the running one when it changed."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec

from cryptohub.collector_market.candles import CandleQuery, CandleSeries
from cryptohub.collector_market.observation import stamp_with_slot, unstamped
from cryptohub.collector_market.providers import kraken
from cryptohub.common.events import Candle, Interval
from cryptohub.common.providers import ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]


def series(backfill: int = 5, stored: Candle | None = None) -> CandleSeries:
    async def last_stored(symbol: str, interval: Interval) -> Candle | None:
        return stored

    return CandleSeries(
        capability=None,  # type: ignore[arg-type]  # select() and query() never call it
        outbox=None,  # type: ignore[arg-type]
        symbol="btc",
        interval="1h",
        backfill=backfill,
        last_stored=last_stored,
    )


def kraken_hours(body: Body, ctx: Ctx) -> list[Candle]:
    return kraken.parse_ohlc(
        body("kraken/ohlc_xxbtzusd_1h_since24h.json"),
        ctx("kraken"),
        symbol="btc",
        code="XBT",
        interval="1h",
    )


def test_backfill_publishes_the_latest_finals_and_the_running_candle(body: Body, ctx: Ctx) -> None:
    chosen = series(backfill=5).select(kraken_hours(body, ctx))
    assert [c.is_final for c in chosen] == [True] * 5 + [False]
    assert chosen[4].open_time == datetime.fromtimestamp(1701810000, UTC)


def test_the_same_answer_again_publishes_nothing(body: Body, ctx: Ctx) -> None:
    s = series()
    s.select(kraken_hours(body, ctx))
    assert s.select(kraken_hours(body, ctx)) == []


def test_a_changed_running_candle_is_published_again(body: Body, ctx: Ctx) -> None:
    s = series()
    candles = kraken_hours(body, ctx)
    s.select(candles)
    moved = msgspec.structs.replace(candles[-1], close=44400.0)
    assert s.select([*candles[:-1], moved]) == [moved]


def test_incremental_query_starts_at_the_newest_final(body: Body, ctx: Ctx) -> None:
    s = series(backfill=200)
    assert s.query(datetime.now(UTC)) == CandleQuery(since=None, limit=200)
    s.select(kraken_hours(body, ctx))
    newest = datetime.fromtimestamp(1701810000, UTC)
    query = s.query(newest + timedelta(hours=3))
    assert query == CandleQuery(since=newest, limit=5)


async def test_a_restart_resumes_after_the_newest_stored_candle(body: Body, ctx: Ctx) -> None:
    candles = kraken_hours(body, ctx)
    stored_running = candles[-1]  # the stream's newest: the running 1701813600 bar
    s = series(stored=stored_running)
    await s._resume()
    assert s.final_until == datetime.fromtimestamp(1701810000, UTC)
    assert s.select(candles) == [candles[-1]]  # no final stored twice


def test_unstamped_events_take_the_slot_time(body: Body, ctx: Ctx) -> None:
    candles = kraken_hours(body, ctx)
    received = candles[-1].received_at
    slot = received - timedelta(milliseconds=250)
    stamped = stamp_with_slot(candles, slot)
    assert stamped[-1].observed_at == slot  # the running bar: no provider time
    assert stamped[:-1] == candles[:-1]  # finals keep their close time
    assert unstamped(candles[-1])
    assert not unstamped(stamped[-1])
    # A slot after the receive time would be a lie: the receive time stays.
    assert stamp_with_slot(candles[-1:], received + timedelta(seconds=1))[0].observed_at == received
