import io
import json
import logging
import sys

import httpx
import pytest

from cryptohub.common.embedded.ports import free_port
from cryptohub.common.secrets import register_secret
from cryptohub.common.settings import ServiceSettings
from cryptohub.common.telemetry import metrics
from cryptohub.common.telemetry.logs import JsonFormatter, configure_logging


def test_log_lines_are_json_with_service_extras_and_exception() -> None:
    formatter = JsonFormatter("collector-market")
    try:
        raise RuntimeError("provider exploded")
    except RuntimeError:
        record = logging.LogRecord(
            "x.y", logging.ERROR, __file__, 1, "poll %s failed", ("binance",), sys.exc_info()
        )
    record.provider = "binance"
    line = json.loads(formatter.format(record))
    assert line["level"] == "error"
    assert line["service"] == "collector-market"
    assert line["msg"] == "poll binance failed"
    assert line["provider"] == "binance"
    assert "RuntimeError: provider exploded" in line["exc"]
    assert line["ts"].endswith("+00:00")


def test_configured_logging_masks_keys_in_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-LOGLINE-31337"
    register_secret(secret)
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("test")
        logging.getLogger("cryptohub.test").warning("calling https://api/?key=%s", secret)
        logging.getLogger("httpx").warning("HTTP Request: GET https://api/?key=%s", secret)
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    output = stream.getvalue()
    assert secret not in output
    assert output.count("key=***") == 2
    assert all(json.loads(line) for line in output.splitlines())


def test_metrics_are_served_with_stable_names() -> None:
    metrics.provider_requests.labels("alpha", "ok").inc()
    metrics.provider_latency.labels("alpha").observe(0.2)
    metrics.events_published.labels("cryptohub.v1.market.price.btc").inc()
    port = free_port()
    metrics.serve_metrics(port, host="127.0.0.1")
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for name in (
        'cryptohub_provider_requests_total{outcome="ok",provider="alpha"}',
        "cryptohub_provider_latency_seconds_bucket",
        'cryptohub_events_published_total{subject="cryptohub.v1.market.price.btc"}',
        "cryptohub_publish_retries_total",
    ):
        assert name in body


def test_settings_read_unprefixed_nats_and_database_urls_and_mask_the_dsn() -> None:
    settings = ServiceSettings(
        NATS_URL="nats://10.0.0.1:4222", DATABASE_URL="postgresql://u:pw@db/x"
    )
    assert settings.nats_url == "nats://10.0.0.1:4222"
    assert settings.database_url is not None
    assert "pw" not in repr(settings)
    assert settings.database_url.get_secret_value().endswith("@db/x")
