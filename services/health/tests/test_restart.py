"""Restarting health mid-sequence: same states, windows rebuilt, no flapping, no duplicate alert."""

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Make = Callable[..., Any]


def fresh() -> str:
    return f"p{secrets.token_hex(4)}"


async def test_restart_mid_sequence_keeps_state_and_raises_no_duplicate_alert(
    make_health: Make,
) -> None:
    down, wobbly, newcomer = fresh(), fresh(), fresh()
    h = make_health(down, wobbly, newcomer, health_cooldown_s=2.5)
    await h.start()
    await h.send(down, "++++----")
    await h.wait_state(down, "offline")
    (opened,) = await h.wait_alerts(down, 1)
    await h.send(wobbly, "+++++---")  # degraded, three failures in a row
    await h.wait_state(wobbly, "degraded")
    before = {p: await h.record(p) for p in (down, wobbly)}
    statuses = {p: await h.statuses(p) for p in (down, wobbly)}
    assert statuses[wobbly] == [("online", "degraded")]

    await h.stop()
    await h.send(newcomer, "++")  # while health is away: the durable consumer keeps them
    await h.start()
    await h.wait_state(newcomer, "online")

    for p in (down, wobbly):
        assert await h.record(p) == before[p], "state and figures as before the restart"
        assert await h.statuses(p) == statuses[p], "no transition published by the restart"
    assert await h.alerts(down) == [opened], "the open alert is not raised again"

    # The rebuilt window still holds wobbly's three failures: a fourth takes it offline.
    await h.send(wobbly, "-")
    await h.wait_state(wobbly, "offline")
    assert await h.statuses(wobbly) == [("online", "degraded"), ("degraded", "offline")]

    # The restored probe time still holds; the probe brings `down` back and resolves its alert.
    await h.wait_state(down, "half_open")
    await h.send(down, "++")
    await h.wait_state(down, "online")
    alerts = await h.wait_alerts(down, 2)
    assert [(a.id, a.state) for a in alerts] == [(opened.id, "open"), (opened.id, "resolved")]
    assert await h.statuses(down) == [
        ("online", "degraded"),
        ("degraded", "offline"),
        ("offline", "half_open"),
        ("half_open", "online"),
    ]


async def test_restart_while_idle_publishes_nothing_and_rewrites_nothing(
    make_health: Make,
) -> None:
    p = fresh()
    h = make_health(p)
    await h.start()
    await h.send(p, "++++-")

    async def all_counted() -> bool:
        record = await h.record(p)
        return record is not None and record.calls == 5

    async with asyncio.timeout(10):
        while not await all_counted():  # noqa: ASYNC110 - polls what another process writes
            await asyncio.sleep(0.03)
    kv = await h.js.key_value(h.settings.health_state_bucket)
    revision = (await kv.get(p)).revision
    await h.stop()
    await h.start()
    await h.stop()  # a full turn ran: ready is set after the first one
    assert (await kv.get(p)).revision == revision
    assert await h.statuses(p) == []
    assert await h.alerts(p) == []


async def test_health_rides_out_a_nats_restart(make_health: Make, nats_server: Any) -> None:
    p = fresh()
    h = make_health(p, health_cooldown_s=10.0)  # offline stays put while we look
    await h.start()
    await h.send(p, "++")
    await h.wait_state(p, "online")

    nats_server.kill()
    await asyncio.sleep(0.5)  # health's turns fail meanwhile; it keeps trying
    nats_server.restart()
    assert h.service is not None
    assert h.service.running, "health survived the outage"

    await h.send(p, "----")  # the publisher reconnects and retries with the same ids
    await h.wait_state(p, "offline", within=20)

    async def calls() -> int:
        record = await h.record(p)
        return record.calls if record is not None else 0

    async with asyncio.timeout(10):
        while await calls() < 6:  # noqa: ASYNC110 - polls what the service writes
            await asyncio.sleep(0.03)
    await asyncio.sleep(0.3)
    assert await calls() == 6, "attempts NATS redelivered after its restart are not counted twice"
    # 2 failures in 4 calls reach the offline error rate (50%) before 2 in a row degrade it.
    assert await h.statuses(p) == [("online", "offline")]
