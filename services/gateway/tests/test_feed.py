"""The live feed: every new event of every stream, decoded once, in order, poison skipped."""

import asyncio
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from cryptohub.common.events import encode
from cryptohub.common.streams import ensure_streams
from cryptohub.common.subjects import price, subject_for
from cryptohub.gateway.feed import FeedMessage, LiveFeed
from cryptohub.gateway.testing.events import one_of_each, publish, sym, tick

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@pytest.fixture(autouse=True)
async def streams(js: JetStreamContext) -> None:
    await ensure_streams(js)


async def wait_for(received: list[FeedMessage], count: int, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if len(received) >= count:
            return
        await asyncio.sleep(0.02)


def skipped(stream: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "cryptohub_gateway_feed_skipped_total", {"stream": stream, "reason": reason}
    )
    return value or 0.0


async def test_feed_delivers_new_events_of_every_stream_once_with_their_sequence(
    nats_client: Client, js: JetStreamContext
) -> None:
    symbol = sym()
    before = tick(symbol, 1.0)
    await publish(js, before)  # stored before the feed starts: not delivered
    feed = LiveFeed(nats_client)
    received: list[FeedMessage] = []
    feed.add_listener(received.append)
    await feed.start()
    try:
        events = one_of_each(symbol)
        seqs = [await publish(js, e) for e in events]
        await wait_for(received, len(events))
        await asyncio.sleep(0.2)  # nothing more arrives
    finally:
        await feed.stop()
    published = {encode(e) for e in [before, *events]}
    mine = [m for m in received if m.raw in published]
    assert len(mine) == len(events)
    sent = {encode(e): (subject_for(e), seq) for e, seq in zip(events, seqs, strict=True)}
    assert {m.raw: (m.subject, m.seq) for m in mine} == sent
    assert {m.stream for m in mine} == {
        "MARKET",
        "CHAIN",
        "NEWS",
        "SENTIMENT",
        "PROVIDER",
        "ALERTS",
    }
    # In stream order within each stream (streams are independent of each other).
    for stream in {m.stream for m in mine}:
        in_stream = [m.seq for m in mine if m.stream == stream]
        assert in_stream == sorted(in_stream)
    by_raw = {encode(e): e for e in events}
    assert all(m.event == by_raw[m.raw] for m in mine)
    assert all(m.published_at.tzinfo is not None for m in mine)


async def test_undecodable_message_is_skipped_and_counted(
    nats_client: Client, js: JetStreamContext
) -> None:
    symbol = sym()
    feed = LiveFeed(nats_client)
    received: list[FeedMessage] = []
    failing_calls: list[Any] = []

    def failing(msg: FeedMessage) -> None:
        failing_calls.append(msg)
        raise RuntimeError("a broken listener")

    feed.add_listener(failing)
    feed.add_listener(received.append)
    before = skipped("MARKET", "undecodable")
    await feed.start()
    try:
        await js.publish(price(symbol), b"{garbage", stream="MARKET")
        good = tick(symbol, 2.0)
        await publish(js, good)
        await wait_for(received, 1)
    finally:
        await feed.stop()
    assert [m.event for m in received] == [good]
    assert len(failing_calls) == 1  # a failing listener does not stop the others
    assert skipped("MARKET", "undecodable") == before + 1
