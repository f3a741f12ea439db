"""JetStream → PostgreSQL: every event stored once, with replicas, redeliveries and poison."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from cryptohub.common.events import encode
from cryptohub.common.ids import message_id
from cryptohub.common.streams import DEADLETTER
from cryptohub.common.subjects import dead_letter, price
from cryptohub.common.testing import unique_name
from cryptohub.gateway.tables import TABLE_FOR, TABLES
from cryptohub.gateway.testing.events import one_of_each, publish, sym, tick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 15.0) -> Any:
    """Poll `check` until it returns a truthy value; its last value (asserted by the caller)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def count_ids(db: asyncpg.Connection, table: str, ids: list[str]) -> int:
    value = await db.fetchval(
        f"SELECT count(*) FROM {table} WHERE event_id = ANY($1::uuid[])",  # noqa: S608
        ids,
    )
    return int(value)


async def test_every_kind_lands_in_its_table_once_with_its_values(
    gateway: Any, js: JetStreamContext, db: asyncpg.Connection
) -> None:
    symbol = sym()
    events = one_of_each(symbol)
    async with gateway():
        for event in events:
            await publish(js, event)
        # The same facts again: once through JetStream's dedupe window (same id), once without
        # an id (JetStream stores it; the gateway must recognise the fact).
        for event in events:
            await publish(js, event)
            await publish(js, event, with_id=False)

        for event in events:
            table = TABLE_FOR[type(event)].name
            stored = await eventually(lambda t=table, e=event: count_ids(db, t, [message_id(e)]))
            assert stored == 1, f"{type(event).__name__} stored {stored} times in {table}"
        await asyncio.sleep(0.5)  # the id-less copies are processed too
        for event in events:
            table = TABLE_FOR[type(event)].name
            assert await count_ids(db, table, [message_id(event)]) == 1

    row = await db.fetchrow(
        "SELECT symbol, price, source, subject, payload::text FROM price_ticks WHERE event_id=$1",
        message_id(events[0]),
    )
    assert row is not None
    assert (row["symbol"], row["price"], row["source"]) == (symbol, events[0].price, "consensus")
    assert row["subject"] == price(symbol)
    assert row["payload"] == encode(events[0]).decode()
    article = await db.fetchrow(
        "SELECT symbols, title FROM articles WHERE event_id=$1", message_id(events[7])
    )
    assert article is not None
    assert list(article["symbols"]) == [symbol, "btc"]
    assert {t.name for t in TABLES} == {TABLE_FOR[type(e)].name for e in events}


def duplicates_seen() -> float:
    """Rows the gateways of this process found already stored (a redelivered, committed event)."""
    value = REGISTRY.get_sample_value(
        "cryptohub_gateway_persisted_total", {"table": "price_ticks", "outcome": "duplicate"}
    )
    return value or 0.0


async def test_two_replicas_with_forced_redeliveries_store_each_event_exactly_once(
    gateway: Any, make_settings: Any, js: JetStreamContext, db: asyncpg.Connection
) -> None:
    symbol = sym()
    events = [tick(symbol, 1.0 + i / 100, seconds_ago=i) for i in range(600)]
    ids = [message_id(e) for e in events]
    duplicates_before = duplicates_seen()
    async with gateway(persist_ack_wait_s=1.0), gateway(persist_ack_wait_s=1.0):
        durable = make_settings().persist_durable
        # A third member of the shared consumer takes messages and never acks them: the server
        # redelivers each after ack_wait, to whichever replica asks next.
        thief = await js.pull_subscribe_bind(durable=durable, stream="MARKET")
        stolen = 0

        async def steal() -> None:
            nonlocal stolen
            while True:
                with contextlib.suppress(TimeoutError):
                    stolen += len(await thief.fetch(20, timeout=0.5))

        stealing = asyncio.create_task(steal())
        for i in range(0, 300, 30):
            await asyncio.gather(*(publish(js, e) for e in events[i : i + 30]))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        stealing.cancel()
        await asyncio.gather(stealing, return_exceptions=True)
        # Hold the table locked longer than ack_wait: the replicas' inserts wait, the server
        # redelivers their in-flight batches to the other replica, and both commit afterwards.
        async with db.transaction():
            await db.execute("LOCK TABLE price_ticks IN SHARE ROW EXCLUSIVE MODE")
            await asyncio.gather(*(publish(js, e) for e in events[300:]))
            await asyncio.sleep(2.5)
        stored = await eventually(
            lambda: _equals(count_ids(db, "price_ticks", ids), len(events)), within=30
        )
        assert stored, f"{await count_ids(db, 'price_ticks', ids)} of {len(events)} stored"
        await thief.unsubscribe()
    assert stolen > 0, "the test's consumer took no messages; no redelivery was forced"
    # A replica whose consumer position is lost (a new durable reading the whole stream) gets
    # every committed event again: each one is recognised as stored, none is written twice.
    async with gateway(persist_durable=unique_name("gw"), persist_from="all"):
        redelivered = await eventually(
            lambda: _at_least(duplicates_seen() - duplicates_before, len(events)), within=30
        )
        assert redelivered, f"{duplicates_seen() - duplicates_before} redelivered events seen"
    rows = await db.fetch(
        "SELECT event_id::text AS id, count(*) AS n FROM price_ticks WHERE symbol=$1 GROUP BY 1",
        symbol,
    )
    assert sorted(r["id"].replace("-", "") for r in rows) == sorted(ids)
    assert all(r["n"] == 1 for r in rows)


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _at_least(value: float, expected: float) -> bool:
    return value >= expected


async def test_poison_message_goes_to_dead_letter_and_the_stream_moves_on(
    gateway: Any, js: JetStreamContext, db: asyncpg.Connection
) -> None:
    symbol = sym()
    good = tick(symbol, 42.0)
    async with gateway():
        await js.publish(price(symbol), b"\x00not json{", stream="MARKET")
        # Valid JSON, invalid event: a negative price.
        await js.publish(
            price(symbol),
            encode(tick(symbol, 1.0)).replace(b'"price":1.0', b'"price":-1.0'),
            stream="MARKET",
        )
        await publish(js, good)
        assert await eventually(lambda: count_ids(db, "price_ticks", [message_id(good)])) == 1

        dead = await js.pull_subscribe(dead_letter("MARKET"), stream=DEADLETTER.name, durable=None)
        letters = []
        for _ in range(20):
            with contextlib.suppress(TimeoutError):
                letters += await dead.fetch(10, timeout=0.5)
            if (
                len(
                    [
                        m
                        for m in letters
                        if m.headers and symbol in m.headers.get("CryptoHub-Original-Subject", "")
                    ]
                )
                >= 2
            ):
                break
        mine = [
            m
            for m in letters
            if m.headers and m.headers.get("CryptoHub-Original-Subject") == price(symbol)
        ]
        assert len(mine) == 2
        reasons = sorted(m.headers["CryptoHub-Reason"] for m in mine if m.headers)
        assert reasons[0].startswith("invalid")
        assert "price" in reasons[0]
        assert reasons[1].startswith("undecodable")
        assert mine[0].data == b"\x00not json{"
        await dead.unsubscribe()
    assert await db.fetchval("SELECT count(*) FROM price_ticks WHERE symbol=$1", symbol) == 1
