"""'Already scored' is per model version: a new revision of the weights scores again."""

from datetime import UTC, datetime
from pathlib import Path

from nats.js import JetStreamContext

from cryptohub.common.events import ArticleSentiment
from cryptohub.common.testing import unique_name
from cryptohub.sentiment.buckets import SCORED_TTL, ensure_bucket
from cryptohub.sentiment.scored import ScoredArticles
from cryptohub.sentiment.weights import directory_revision


async def test_scored_mark_holds_for_the_same_model_version_only(js: JetStreamContext) -> None:
    scored = ScoredArticles(await ensure_bucket(js, unique_name("scored"), ttl=SCORED_TTL))
    now = datetime.now(UTC)
    result = ArticleSentiment(
        source="sentiment",
        observed_at=now,
        received_at=now,
        article_id="https://example.invalid/a?b=c d",  # any characters: the key is hashed
        model="kk08/CryptoBERT",
        model_revision="rev-a",
        label="bullish",
        score=0.4,
        probabilities={"bearish": 0.3, "bullish": 0.7},
    )
    assert not await scored.seen(result.article_id, "kk08/CryptoBERT", "rev-a")
    await scored.mark(result)
    assert await scored.seen(result.article_id, "kk08/CryptoBERT", "rev-a")
    assert not await scored.seen(result.article_id, "kk08/CryptoBERT", "rev-b")
    assert not await scored.seen(result.article_id, "ElKulako/cryptobert", "rev-a")


def test_a_local_directory_gets_a_new_revision_when_its_weights_change(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights v1")
    first = directory_revision(tmp_path)
    assert directory_revision(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"weights v2")
    assert directory_revision(tmp_path) != first
