"""`cryptohub run health` as a real process: reads its settings from the environment, works,
and stops cleanly on SIGTERM; `cryptohub up` finds it through its entry point."""

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from datetime import UTC, datetime

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from cryptohub.cli.services import discover
from cryptohub.common.bus.publish import EventPublisher
from cryptohub.common.events import ProviderAttempt, ProviderStateRecord, decode_as
from cryptohub.common.streams import PROVIDER

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_health_is_a_registered_service() -> None:
    assert discover()["health"].value == "cryptohub.health.__main__:main"


async def test_run_health_until_sigterm(
    nats_url: str, js: JetStreamContext, attempts: EventPublisher
) -> None:
    tag = secrets.token_hex(4)
    provider, bucket = f"p{tag}", f"ps_{tag}"
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "CRYPTOHUB_LOG_JSON": "false",
        "CRYPTOHUB_HEALTH_CONSUMER": f"health_{tag}",
        "CRYPTOHUB_HEALTH_STATE_BUCKET": bucket,
        "CRYPTOHUB_HEALTH_MEMORY_BUCKET": f"hm_{tag}",
        "CRYPTOHUB_HEALTH_PROVIDERS": provider,
        "CRYPTOHUB_HEALTH_CATEGORIES": f"{provider}=market",
        "CRYPTOHUB_HEALTH_TICK_S": "0.1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cryptohub.cli",
        "run",
        "health",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        now = datetime.now(UTC)
        await attempts.publish(
            ProviderAttempt(
                provider=provider,
                endpoint="price",
                ok=True,
                status=200,
                latency_ms=12.0,
                source="test-collector",
                observed_at=now,
                received_at=now,
            )
        )
        record = None
        async with asyncio.timeout(30):
            while record is None:
                try:
                    entry = await (await js.key_value(bucket)).get(provider)
                    record = decode_as(entry.value or b"", ProviderStateRecord)
                except NotFoundError:  # bucket or key not there yet
                    await asyncio.sleep(0.1)
        assert (record.state, record.calls) == ("online", 1)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()[-2000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for cleanup in (
            js.delete_consumer(PROVIDER.name, f"health_{tag}"),
            js.delete_key_value(bucket),
            js.delete_key_value(f"hm_{tag}"),
        ):
            with contextlib.suppress(NotFoundError):
                await cleanup
