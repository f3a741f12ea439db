"""What every sentiment model offers the service: a name, a revision, batch prediction."""

from collections.abc import Sequence
from typing import Protocol

from cryptohub.sentiment.labels import Prediction

__all__ = ["SentimentModel"]


class SentimentModel(Protocol):
    """A model scores texts in batches; `predict` blocks (run it off the event loop)."""

    @property
    def name(self) -> str:
        """What ArticleSentiment.model says: a Hugging Face id, a directory, or `vader`."""
        ...

    @property
    def revision(self) -> str | None:
        """The exact weights: a Hub commit, a content hash of a local directory, a version."""
        ...

    @property
    def device(self) -> str:
        """Where it runs: `cpu`, `cuda`, ..."""
        ...

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text, in order."""
        ...
