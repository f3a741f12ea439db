"""A model's own class names mapped to bearish | neutral | bullish, and a prediction from them."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cryptohub.common.events import SentimentLabel
from cryptohub.sentiment.errors import LabelMappingError

__all__ = ["LABELS", "Prediction", "label_mapping", "prediction_from_probabilities"]

LABELS: Final[tuple[SentimentLabel, ...]] = ("bearish", "neutral", "bullish")

# Names models use for their classes, matched on the lower-cased name.
_SYNONYMS: Final[dict[str, SentimentLabel]] = {
    "bearish": "bearish",
    "bear": "bearish",
    "negative": "bearish",
    "neg": "bearish",
    "neutral": "neutral",
    "neu": "neutral",
    "bullish": "bullish",
    "bull": "bullish",
    "positive": "bullish",
    "pos": "bullish",
}
_GENERIC: Final = re.compile(r"label_\d+")


@dataclass(frozen=True, slots=True)
class Prediction:
    """One text's sentiment: label, score in [-1, 1], class probabilities, confidence in [0, 1]."""

    label: SentimentLabel
    score: float
    probabilities: dict[str, float]
    confidence: float


def label_mapping(
    model: str, id2label: Mapping[int, str], overrides: Mapping[str, SentimentLabel] | None = None
) -> tuple[SentimentLabel, ...]:
    """Each class index's sentiment label, from `overrides` (keyed by the model's class name)
    or else from the class name itself. Raises LabelMappingError when a class cannot be named
    (e.g. a bare `LABEL_0` with no override): the service never guesses a label."""
    if not id2label:
        raise LabelMappingError(model, "its config has no id2label")
    indices = sorted(id2label)
    if indices != list(range(len(indices))):
        raise LabelMappingError(model, f"class indices {indices} are not 0..n-1")
    mapped: list[SentimentLabel] = []
    for index in indices:
        name = id2label[index]
        label = (overrides or {}).get(name) or _SYNONYMS.get(name.strip().lower())
        if label is None:
            hint = (
                " (a generic name: set CRYPTOHUB_SENTIMENT_LABEL_MAP)"
                if _GENERIC.fullmatch(name.strip().lower())
                else ""
            )
            raise LabelMappingError(model, f"class {index} {name!r} has no known meaning{hint}")
        mapped.append(label)
    if "bearish" not in mapped or "bullish" not in mapped:
        raise LabelMappingError(model, f"classes {mapped} lack a bearish or a bullish class")
    return tuple(mapped)


def prediction_from_probabilities(
    labels: Sequence[SentimentLabel], probabilities: Sequence[float]
) -> Prediction:
    """Class probabilities summed per label; label = the most probable, score = P(bullish) -
    P(bearish), confidence = the chosen label's probability. Labels a model lacks are absent."""
    summed: dict[str, float] = {}
    for label, p in zip(labels, probabilities, strict=True):
        summed[label] = summed.get(label, 0.0) + float(p)
    total = sum(summed.values())
    if total > 0:  # softmax output sums to 1 up to rounding; keep each value within [0, 1]
        summed = {k: min(1.0, max(0.0, v / total)) for k, v in summed.items()}
    best: SentimentLabel = max(
        (label for label in LABELS if label in summed), key=lambda k: summed[k]
    )
    score = summed.get("bullish", 0.0) - summed.get("bearish", 0.0)
    return Prediction(
        label=best,
        score=min(1.0, max(-1.0, score)),
        probabilities=summed,
        confidence=summed[best],
    )
