"""Schemathesis over the OpenAPI schema of a seeded gateway: no 5xx, no response off its schema."""

import asyncio
import sys
from pathlib import Path

import pytest

from cryptohub.gateway.testing.seed import ADMIN_KEY, Seed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(110),
    pytest.mark.asyncio(loop_scope="module"),
]

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)


# `max_age` turns data older than it into a documented 503; pinned high so that a 5xx here can
# only be a real failure (test_rest covers the 503).
CONFIG = """
[parameters]
"query.max_age" = 1000000000
"""


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    api: Seed, tmp_path: Path
) -> None:
    pytest.importorskip("schemathesis", reason="schemathesis is the gateway's `test` extra")
    cli = Path(sys.executable).with_name("schemathesis")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    process = await asyncio.create_subprocess_exec(
        str(cli),
        "--config-file",
        str(config),
        "run",
        f"{api.base}/schema/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        "15",
        "--seed",
        "20261121",
        "--workers",
        "4",
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
        "--header",
        f"X-API-Key: {ADMIN_KEY}",
        "--exclude-path",
        "/metrics",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 100)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    assert "No issues found" in text or "passed" in text, text[-3000:]
