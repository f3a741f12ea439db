"""NATS plumbing on a real (embedded) NATS server: streams, idempotent publish, retries, tracing."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import StorageType
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cryptohub.common import subjects
from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.bus.publish import MSG_ID_HEADER, EventPublisher
from cryptohub.common.embedded import EmbeddedNats
from cryptohub.common.events import PriceTick, decode
from cryptohub.common.ids import message_id
from cryptohub.common.settings import ServiceSettings
from cryptohub.common.streams import STREAMS, ensure_kv, ensure_streams
from cryptohub.common.telemetry.tracing import nats_tracing_middleware


def tick(symbol: str, price: float = 100.0, at: datetime | None = None) -> PriceTick:
    now = datetime.now(UTC)
    return PriceTick(
        symbol=symbol, price=price, source="binance", observed_at=at or now, received_at=now
    )


def fresh_symbol() -> str:
    return "t" + uuid.uuid4().hex[:10]


async def stored(js: JetStreamContext, subject: str) -> list[nats.aio.msg.Msg]:
    """Every message the stream holds on `subject` (ephemeral ordered read)."""
    sub = await js.subscribe(subject, ordered_consumer=True)
    messages = []
    try:
        while True:
            messages.append(await sub.next_msg(timeout=0.5))
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return messages


@pytest.fixture
async def publisher(nats_url: str) -> AsyncIterator[EventPublisher]:
    broker = create_broker(ServiceSettings(service="test", nats_url=nats_url))
    await broker.connect()
    try:
        await prepare_jetstream(broker.connection)
        yield EventPublisher(broker, timeout=2.0)
    finally:
        await broker.stop()


async def test_stream_creation_run_twice_changes_nothing(js: JetStreamContext) -> None:
    await ensure_streams(js)
    before = {s.name: (await js.stream_info(s.name)).config for s in STREAMS}
    assert await ensure_streams(js) == []
    after = {s.name: (await js.stream_info(s.name)).config for s in STREAMS}
    assert before == after
    market = before["MARKET"]
    assert market.storage == StorageType.FILE
    assert (market.duplicate_window or 0) > 0
    assert (market.max_age or 0) > 0
    await ensure_kv(js)
    await ensure_kv(js)
    status = await (await js.key_value("provider_state")).status()
    assert status.bucket == "provider_state"


async def test_publishing_the_same_fact_twice_stores_one_message(
    publisher: EventPublisher, js: JetStreamContext
) -> None:
    event = tick(fresh_symbol())
    assert await publisher.publish(event) is True
    assert await publisher.publish(event) is False
    other_fact = tick(event.symbol, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert await publisher.publish(other_fact) is True

    messages = await stored(js, subjects.price(event.symbol))
    assert [decode(m.data) for m in messages] == [event, other_fact]
    assert messages[0].headers is not None
    assert messages[0].headers[MSG_ID_HEADER] == message_id(event)


async def test_timed_out_publish_is_retried_with_the_same_id_until_nats_is_back(
    tmp_path: Path,
) -> None:
    with EmbeddedNats(tmp_path / "nats") as server:
        broker = create_broker(ServiceSettings(service="test", nats_url=server.url))
        await broker.connect()
        try:
            await prepare_jetstream(broker.connection)
            publisher = EventPublisher(broker, timeout=0.5, max_attempts=40, max_backoff=0.2)
            event = tick(fresh_symbol())
            server.kill()
            pending = asyncio.create_task(publisher.publish(event))
            await asyncio.sleep(1.5)
            assert not pending.done(), "the publish must keep retrying while NATS is down"
            server.restart()
            assert await asyncio.wait_for(pending, 20) in (True, False)
            client = await nats.connect(server.url)
            try:
                messages = await stored(client.jetstream(), subjects.price(event.symbol))
            finally:
                await client.close()
            assert len(messages) == 1
        finally:
            await broker.stop()


async def test_trace_context_travels_in_message_headers(
    nats_url: str, js: JetStreamContext
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    broker = create_broker(
        ServiceSettings(service="test", nats_url=nats_url),
        middlewares=[nats_tracing_middleware(provider)],
    )
    await broker.connect()
    try:
        await prepare_jetstream(broker.connection)
        event = tick(fresh_symbol())
        await EventPublisher(broker).publish(event)
    finally:
        await broker.stop()
    [message] = await stored(js, subjects.price(event.symbol))
    assert message.headers is not None
    traceparent = message.headers.get("traceparent", "")
    version, trace_id, _span_id, _flags = traceparent.split("-")
    assert version == "00"
    trace_ids = {format(span.context.trace_id, "032x") for span in spans.get_finished_spans()}
    assert trace_id in trace_ids
