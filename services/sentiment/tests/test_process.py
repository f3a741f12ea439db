"""`cryptohub run sentiment` as a real process: registered, consumes, stops cleanly on SIGTERM."""

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from nats.js import JetStreamContext

from cryptohub.common import subjects
from cryptohub.common.events import Article, encode
from cryptohub.common.testing import unique_name


def test_sentiment_is_registered_as_a_cryptohub_service() -> None:
    (entry,) = [ep for ep in entry_points(group="cryptohub.services") if ep.name == "sentiment"]
    assert entry.value == "cryptohub.sentiment.__main__:main"


async def test_cryptohub_run_sentiment_scores_articles_and_stops_on_sigterm(
    nats_url: str,
    js: JetStreamContext,
    make_article: Callable[..., Article],
    captured: Any,
    tmp_path: Any,
) -> None:
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "CRYPTOHUB_LOG_JSON": "false",
        "CRYPTOHUB_SENTIMENT_HF_CACHE_DIR": str(tmp_path),  # empty: the lexicon fallback
        "CRYPTOHUB_SENTIMENT_CONSUMER": unique_name("sentiment"),
        "CRYPTOHUB_SENTIMENT_SCORED_BUCKET": unique_name("scored"),
        "CRYPTOHUB_SENTIMENT_ASSETS_BUCKET": unique_name("assets"),
        "CRYPTOHUB_SENTIMENT_BACKFILL_HOURS": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cryptohub.cli",
        "run",
        "sentiment",
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("consuming news articles" in line for line in lines):
                line = await process.stderr.readline()
                assert line, f"sentiment exited early: {''.join(lines)}"
                lines.append(line.decode())
            article = make_article(
                "Florida Appeals Court Reinstates Felony Charges for Unregistered Bitcoin Sale"
            )
            await js.publish(subjects.news_article(), encode(article))
            await captured.wait_for(lambda: bool(captured.for_article(article.id)))
            process.send_signal(signal.SIGTERM)
            rest = await process.stderr.read()
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    (result,) = captured.for_article(article.id)
    assert (result.model, result.label) == ("vader", "bearish")
    log = "".join(lines) + rest.decode()
    assert "lexicon fallback" in log
    assert "sentiment stopped" in log
