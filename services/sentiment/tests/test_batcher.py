"""Dynamic batching: flush on batch size or on the deadline, results back to each caller."""

import asyncio
from collections.abc import Sequence

import pytest

from cryptohub.sentiment.batcher import Batcher
from cryptohub.sentiment.labels import Prediction
from cryptohub.sentiment.vader import VaderModel


class RecordingVader(VaderModel):
    """VADER that remembers the size of every batch it was given."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__()
        self.batches: list[int] = []
        self._fail_on = fail_on

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        self.batches.append(len(texts))
        if self._fail_on is not None and self._fail_on in texts:
            raise RuntimeError("model blew up")
        return super().predict(texts)


async def test_concurrent_texts_are_scored_in_batches_of_at_most_max_batch() -> None:
    model = RecordingVader()
    batcher = Batcher(model, max_batch=8, max_wait=0.5)
    texts = [f"Bitcoin {'soars' if i % 2 else 'crashes'} again, day {i}" for i in range(20)]
    try:
        async with asyncio.timeout(10):
            results = await asyncio.gather(*(batcher.predict(t) for t in texts))
    finally:
        await batcher.close()
    assert model.batches == [8, 8, 4]
    assert results == VaderModel().predict(texts)


async def test_a_lone_text_is_flushed_by_the_deadline() -> None:
    model = RecordingVader()
    batcher = Batcher(model, max_batch=32, max_wait=0.05)
    try:
        async with asyncio.timeout(5):
            result = await batcher.predict("Exchange hacked, funds stolen")
    finally:
        await batcher.close()
    assert model.batches == [1]
    assert result.label == "bearish"


async def test_a_failing_batch_fails_its_callers_and_the_next_batch_still_runs() -> None:
    model = RecordingVader(fail_on="poison")
    batcher = Batcher(model, max_batch=2, max_wait=0.5)
    try:
        async with asyncio.timeout(10):
            first = await asyncio.gather(
                batcher.predict("poison"), batcher.predict("fine"), return_exceptions=True
            )
            after = await batcher.predict("Great gains for bitcoin")
    finally:
        await batcher.close()
    assert all(isinstance(r, RuntimeError) for r in first)
    assert after.label == "bullish"


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Batcher(VaderModel(), max_batch=0, max_wait=0.01)
