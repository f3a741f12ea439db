"""Alert notifications over real HTTP on 127.0.0.1: each alert once, retried on 500, never in
the way of health when a receiver hangs."""

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from prometheus_client import REGISTRY

from cryptohub.common.events import Alert, decode_as
from cryptohub.common.replay import Fault, ReplayServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

Make = Callable[..., Any]


def fresh() -> str:
    return f"p{secrets.token_hex(4)}"


async def wait_requests(server: ReplayServer, path: str, count: int) -> None:
    async with asyncio.timeout(10):
        await server.wait_for_requests("hooks", path, count=count)


async def test_webhooks_get_each_alert_once_and_retry_after_a_500(
    make_health: Make, replay_server: ReplayServer
) -> None:
    replay_server.add_route("hooks", "POST", "/alerts", b"{}")
    replay_server.add_route("hooks", "POST", "/slack", b"ok", content_type="text/plain")
    replay_server.inject("hooks", "/alerts", Fault(status=500, times=1), method="POST")
    p = fresh()
    h = make_health(
        p,
        health_webhook_url=f"{replay_server.url}/hooks/alerts",
        health_slack_webhook_url=f"{replay_server.url}/hooks/slack",
    )
    await h.start()
    await h.send(p, "----")
    await h.wait_state(p, "half_open")
    await h.send(p, "++")
    await h.wait_state(p, "online")
    await wait_requests(replay_server, "/alerts", 3)
    await wait_requests(replay_server, "/slack", 2)
    await asyncio.sleep(0.3)  # nothing more comes

    hooks = [r for r in replay_server.requests if r.path == "/alerts"]
    assert len(hooks) == 3, "open (500, then retried) and resolved"
    sent = [decode_as(r.body, Alert) for r in hooks]
    assert sent[0] == sent[1], "the retry sends the same alert"
    assert hooks[0].headers["idempotency-key"] == hooks[1].headers["idempotency-key"]
    delivered = [(a.id, a.state) for a in sent[1:]]
    assert delivered == [(sent[0].id, "open"), (sent[0].id, "resolved")]
    assert sent[0].rule == "provider_offline"
    assert sent[0].provider == p
    assert [(a.id, a.state) for a in await h.alerts(p)] == delivered, "the events on NATS"

    slack = [r for r in replay_server.requests if r.path == "/slack"]
    texts = [msgspec.json.decode(r.body)["text"] for r in slack]
    assert texts[0].startswith(":red_circle: *CRITICAL provider_offline*")
    assert texts[1].startswith(":white_check_mark: *RESOLVED provider_offline*")
    assert all(sent[0].id in text for text in texts)


async def test_a_hanging_receiver_never_holds_health_up(
    make_health: Make, replay_server: ReplayServer
) -> None:
    replay_server.add_route("hooks", "POST", "/hang", b"{}")
    replay_server.inject("hooks", "/hang", Fault(hang=True), method="POST")
    providers = [fresh() for _ in range(3)]
    h = make_health(
        *providers,
        health_webhook_url=f"{replay_server.url}/hooks/hang",
        health_notify_queue=1,
        health_notify_timeout_s=30.0,
        health_notify_flush_s=0.1,
    )
    dropped = ("cryptohub_health_notifications_total", {"sink": "webhook", "outcome": "dropped"})
    before = REGISTRY.get_sample_value(*dropped) or 0.0
    await h.start()
    for p in providers:
        await h.send(p, "----")
    for p in providers:
        (alert,) = await h.wait_alerts(p, 1)
        assert alert.state == "open"
    await wait_requests(replay_server, "/hang", 1)
    for p in providers:
        await h.wait_state(p, "half_open")  # health goes on while the receiver hangs
    assert (REGISTRY.get_sample_value(*dropped) or 0.0) - before >= 1, (
        "one in flight, one queued, the rest dropped"
    )
