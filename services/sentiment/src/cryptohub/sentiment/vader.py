"""The lexicon fallback: VADER, when no BERT weights (or no PyTorch) are available."""

from collections.abc import Sequence
from importlib.metadata import version
from typing import Final

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

from cryptohub.common.events import SentimentLabel
from cryptohub.sentiment.labels import Prediction

__all__ = ["VADER_THRESHOLD", "VaderModel"]

# The VADER authors' thresholds on the compound score for positive / negative text.
VADER_THRESHOLD: Final = 0.05


class VaderModel:
    """VADER's compound score is the sentiment score. VADER has no class probabilities, so
    `probabilities` stays empty; confidence is |compound| for a bullish or bearish label and
    VADER's neutral share of the text for a neutral one."""

    name: Final = "vader"
    device: Final = "cpu"

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()
        self.revision: str | None = version("vadersentiment")

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Prediction:
        polarity: dict[str, float] = self._analyzer.polarity_scores(text)
        compound = min(1.0, max(-1.0, float(polarity["compound"])))
        label: SentimentLabel
        if compound >= VADER_THRESHOLD:
            label, confidence = "bullish", abs(compound)
        elif compound <= -VADER_THRESHOLD:
            label, confidence = "bearish", abs(compound)
        else:
            label, confidence = "neutral", float(polarity["neu"])
        return Prediction(
            label=label,
            score=compound,
            probabilities={},
            confidence=min(1.0, max(0.0, confidence)),
        )
