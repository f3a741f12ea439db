"""PullConsumer: batches from a durable consumer, and a cancel always ends a pull."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from cryptohub.common.testing import unique_name
from cryptohub.gateway.pull import PullConsumer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.fixture
def stream() -> str:
    return unique_name("PULL")


@pytest_asyncio.fixture
async def puller(
    nats_client: Client, js: JetStreamContext, stream: str
) -> AsyncIterator[PullConsumer]:
    """A PullConsumer on a stream (subjects `<stream>.>`) and durable consumer of its own."""
    durable = unique_name("d")
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"]))
    await js.add_consumer(
        stream, ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT)
    )
    consumer = PullConsumer(nats_client, stream, durable)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()
        await js.delete_stream(stream)


async def test_next_batch_returns_what_was_published(
    puller: PullConsumer, js: JetStreamContext, stream: str
) -> None:
    for i in range(5):
        await js.publish(f"{stream}.x", str(i).encode())
    got: list[bytes] = []
    for _ in range(50):
        got += [m.data for m in await puller.next_batch(10, 0.05)]
        if len(got) >= 5:
            break
    assert got == [str(i).encode() for i in range(5)]
    assert await puller.next_batch(10, 0.01) == []


async def test_cancel_always_ends_a_pull(puller: PullConsumer) -> None:
    """Pull requests expiring every millisecond: a cancel landing at any point must end the task.

    asyncio.wait_for (Python 3.11) dropped a cancel that arrived while the wait was ending, so
    a persister could not be stopped and the gateway's shutdown hung.
    """

    async def keep_pulling() -> None:
        while True:
            await puller.next_batch(100, 0.001)

    ignored = 0
    for attempt in range(150):
        task = asyncio.create_task(keep_pulling())
        await asyncio.sleep(0.002)
        for _ in range(attempt % 30):  # a cancel at many different points of a pull
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.wait({task}, timeout=2.0)
        while not task.done():  # ignored: end it for good before the next attempt
            ignored += 1
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        assert task.cancelled(), task.exception()
    assert ignored == 0, f"{ignored} of 150 cancels were ignored"
