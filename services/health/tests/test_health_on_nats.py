"""Health on real NATS: attempt sequences in; KV provider_state, status events and alerts out."""

import asyncio
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from cryptohub.common.events import Alert, RateLimitSeen

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# The harness and its fixtures are in conftest.py.
Make = Callable[..., Any]


def fresh(prefix: str = "p") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def opens_and_resolves(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.rule, a.state) for a in alerts]


async def test_failing_provider_goes_degraded_offline_half_open_and_back_online(
    make_health: Make,
) -> None:
    p = fresh()
    h = make_health(p)
    await h.start()

    await h.send(p, "++++")
    await h.wait_state(p, "online")
    await h.send(p, "--")
    await h.wait_state(p, "degraded")
    await h.send(p, "--")
    await h.wait_state(p, "offline")
    record = await h.record(p)
    assert record is not None
    assert record.reason == "4 consecutive failures"
    assert record.next_probe_at == record.since + timedelta(seconds=0.6)
    assert (record.calls, record.success_rate) == (8, 0.5)
    assert record.p50_ms == 30.0
    assert record.p95_ms == 250.0
    assert record.last_error == "http_5xx: HTTP 503"
    assert (
        REGISTRY.get_sample_value(
            "cryptohub_health_provider_state", {"provider": p, "state": "offline"}
        )
        == 1
    )

    (opened,) = await h.wait_alerts(p, 1)
    assert (opened.rule, opened.severity, opened.state) == ("provider_offline", "critical", "open")
    assert opened.source == "health"
    open_offline = {"rule": "provider_offline", "severity": "critical"}
    assert REGISTRY.get_sample_value("cryptohub_health_open_alerts", open_offline) == 1

    await h.wait_state(p, "half_open")  # after the cooldown; the window starts afresh
    half_open = await h.record(p)
    assert half_open is not None
    assert half_open.calls == 0
    await h.send(p, "+")
    await asyncio.sleep(0.2)
    assert (await h.record(p)).state == "half_open", "one probe is not enough"  # type: ignore[union-attr]
    await h.send(p, "+")
    await h.wait_state(p, "online")

    assert await h.statuses(p) == [
        ("online", "degraded"),
        ("degraded", "offline"),
        ("offline", "half_open"),
        ("half_open", "online"),
    ]
    alerts = await h.wait_alerts(p, 2)
    assert opens_and_resolves(alerts) == [
        ("provider_offline", "open"),
        ("provider_offline", "resolved"),
    ]
    assert alerts[0].id == alerts[1].id
    assert REGISTRY.get_sample_value("cryptohub_health_open_alerts", open_offline) == 0
    assert (
        REGISTRY.get_sample_value(
            "cryptohub_health_transitions_total",
            {"provider": p, "previous": "offline", "current": "half_open"},
        )
        == 1
    )


async def test_category_failing_together_raises_one_category_alert(make_health: Make) -> None:
    a, b, c, category = fresh(), fresh(), fresh(), fresh("cat")
    h = make_health(a, b, c, health_categories={a: category, b: category, c: category})
    await h.start()
    await h.send(c, "++")
    await h.wait_state(c, "online")
    for _ in range(4):  # a and b fail together
        await h.send(a, "-")
        await h.send(b, "-")
    (alert,) = await h.wait_alerts(category, 1)
    assert (alert.rule, alert.state, alert.category) == ("category_offline", "open", category)
    assert alert.message.startswith(f"2 of 3 {category} providers are offline")

    # They come back one by one; the category alert stays until the last is back.
    await h.wait_state(a, "half_open")
    await h.send(a, "++")
    await h.wait_state(a, "online")
    await h.wait_state(b, "half_open")
    await asyncio.sleep(0.4)  # longer than the group wait: b alone would have its own alert
    assert len(await h.alerts(category)) == 1
    await h.send(b, "++")
    alerts = await h.wait_alerts(category, 2)
    assert opens_and_resolves(alerts) == [
        ("category_offline", "open"),
        ("category_offline", "resolved"),
    ]
    assert alerts[0].id == alerts[1].id
    assert await h.alerts(a) == [], "no alert per provider"
    assert await h.alerts(b) == []


async def test_rate_limit_alerts_open_once_and_resolve_when_quota_is_back(
    make_health: Make,
) -> None:
    p = fresh()
    h = make_health(p)
    await h.start()
    await h.send(p, "+", rate_limit=RateLimitSeen(limit=100, remaining=50))
    await h.send(p, "+", rate_limit=RateLimitSeen(limit=100, remaining=15))
    (near,) = await h.wait_alerts(p, 1)
    assert (near.rule, near.severity) == ("rate_limit_near", "warning")
    assert "85%" in near.message
    await h.send(p, "+", rate_limit=RateLimitSeen(limit=100, remaining=10))
    await h.send(p, "+", rate_limit=RateLimitSeen(limit=100, remaining=0))
    alerts = await h.wait_alerts(p, 2)
    assert alerts[1].rule == "rate_limit_exhausted"
    assert alerts[1].severity == "critical"
    await h.wait_state(p, "degraded")
    assert (await h.record(p)).reason == "rate limit exhausted"  # type: ignore[union-attr]

    await h.send(p, "+", rate_limit=RateLimitSeen(limit=100, remaining=95))
    alerts = await h.wait_alerts(p, 4)
    assert sorted(opens_and_resolves(alerts)) == [
        ("rate_limit_exhausted", "open"),
        ("rate_limit_exhausted", "resolved"),
        ("rate_limit_near", "open"),
        ("rate_limit_near", "resolved"),
    ]
    await h.wait_state(p, "online")


async def test_429s_count_as_exhaustion_not_as_failures(make_health: Make) -> None:
    p = fresh()
    h = make_health(p)
    await h.start()
    await h.send(p, "++++!!!!!")
    (alert,) = await h.wait_alerts(p, 1)
    assert alert.rule == "rate_limit_exhausted"
    await h.wait_state(p, "degraded")
    assert (await h.record(p)).reason == "rate limit exhausted"  # type: ignore[union-attr]
    await h.send(p, "+")
    await h.wait_state(p, "online")
    assert [a.state for a in await h.wait_alerts(p, 2)] == ["open", "resolved"]


async def test_stale_alert_for_expected_and_recently_seen_providers(make_health: Make) -> None:
    configured, seen = fresh(), fresh()
    h = make_health(
        configured, seen, health_expected_providers=(configured,), health_stale_after_s=0.4
    )
    await h.start()
    await h.send(seen, "+")
    (never,) = await h.wait_alerts(configured, 1)
    assert never.rule == "provider_stale"
    assert "no calls at all" in never.message
    (quiet,) = await h.wait_alerts(seen, 1)
    assert quiet.rule == "provider_stale"
    assert "no calls since" in quiet.message

    await h.send(configured, "+")
    await h.send(seen, "+")
    for p in (configured, seen):
        alerts = await h.wait_alerts(p, 2)
        assert opens_and_resolves(alerts) == [
            ("provider_stale", "open"),
            ("provider_stale", "resolved"),
        ]


async def test_invalid_data_alert_and_degraded_for_long_alert(make_health: Make) -> None:
    invalid, slow_to_heal = fresh(), fresh()
    h = make_health(invalid, slow_to_heal, health_degraded_alert_after_s=0.3)
    await h.start()

    await h.send(invalid, "++++")
    await h.send(invalid, "-", kind="invalid_data")
    (alert,) = await h.wait_alerts(invalid, 1)
    assert alert.rule == "invalid_data"
    assert "1 of the last 5 calls" in alert.message
    await h.send(invalid, "+" * 10)  # the invalid call leaves the 10-call window
    assert [a.state for a in await h.wait_alerts(invalid, 2)] == ["open", "resolved"]

    await h.send(slow_to_heal, "++++--")
    await h.wait_state(slow_to_heal, "degraded")
    (alert,) = await h.wait_alerts(slow_to_heal, 1)
    assert alert.rule == "provider_degraded"
    await h.send(slow_to_heal, "++++++")
    await h.wait_state(slow_to_heal, "online")
    assert [a.state for a in await h.wait_alerts(slow_to_heal, 2)] == ["open", "resolved"]
