"""A Hugging Face sequence-classification model (BERT, RoBERTa, ...) run with PyTorch."""

import importlib.util
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cryptohub.common.events import SentimentLabel
from cryptohub.sentiment.errors import ModelUnavailableError
from cryptohub.sentiment.labels import Prediction, label_mapping, prediction_from_probabilities
from cryptohub.sentiment.settings import Device
from cryptohub.sentiment.weights import LocatedWeights

__all__ = ["BertModel", "torch_available"]

log = logging.getLogger(__name__)

# Beyond this a tokenizer's model_max_length is the "unset" sentinel (int(1e30)).
_UNSET_MAX_LENGTH: Final = 100_000


def torch_available() -> bool:
    """Whether PyTorch is installed (it is an optional extra of this service)."""
    return importlib.util.find_spec("torch") is not None


def _max_length(tokenizer: Any, config: Any, wanted: int) -> int:
    limits = [wanted]
    if 0 < int(tokenizer.model_max_length) < _UNSET_MAX_LENGTH:
        limits.append(int(tokenizer.model_max_length))
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models reserve positions for the padding offset.
        offset = (getattr(config, "pad_token_id", None) or 0) + 1
        if getattr(config, "model_type", "") != "roberta":
            offset = 0
        limits.append(positions - offset)
    return max(8, min(limits))


class BertModel:
    """Loaded once; `predict` tokenizes (truncating to the model's max length), runs the model
    under `torch.inference_mode` and maps each class to bearish / neutral / bullish."""

    def __init__(
        self,
        *,
        name: str,
        revision: str,
        labels: tuple[SentimentLabel, ...],
        tokenizer: Any,
        model: Any,
        device: str,
        max_length: int,
    ) -> None:
        self.name = name
        self.revision: str | None = revision
        self.labels = labels
        self.device = device
        self.max_length = max_length
        self._tokenizer = tokenizer
        self._model = model

    @classmethod
    def load(
        cls,
        weights: LocatedWeights,
        *,
        label_overrides: Mapping[str, SentimentLabel] | None = None,
        device: Device = "auto",
        threads: int = 0,
        max_tokens: int = 128,
    ) -> "BertModel":
        """Load from `weights.path` with no network access; ModelUnavailableError says why not."""
        if not torch_available():
            raise ModelUnavailableError(
                weights.name,
                "PyTorch is not installed (`make install-bert`, or install the `bert` extra)",
            )
        import torch  # type: ignore[import-not-found,unused-ignore]
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # not in JSON logs

        if threads > 0:
            torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device == "cuda" and not torch.cuda.is_available():
            raise ModelUnavailableError(weights.name, "device cuda asked for, but none is usable")
        try:
            config = AutoConfig.from_pretrained(weights.path, local_files_only=True)
            labels = label_mapping(weights.name, config.id2label, label_overrides)
            tokenizer = AutoTokenizer.from_pretrained(weights.path, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                weights.path, local_files_only=True
            )
        except ModelUnavailableError:
            raise
        except (OSError, ValueError, KeyError, ImportError, RuntimeError) as exc:
            raise ModelUnavailableError(
                weights.name, f"cannot load from {weights.path}: {type(exc).__name__}: {exc}"
            ) from exc
        model.eval()
        model.to(device)
        return cls(
            name=weights.name,
            revision=weights.revision,
            labels=labels,
            tokenizer=tokenizer,
            model=model,
            device=device,
            max_length=_max_length(tokenizer, config, max_tokens),
        )

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        import torch  # type: ignore[import-not-found,unused-ignore]

        encoded = self._tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        encoded = {key: value.to(self.device) for key, value in encoded.items()}
        with torch.inference_mode():
            logits = self._model(**encoded).logits
            probabilities = torch.softmax(logits.float(), dim=-1).cpu().tolist()
        return [prediction_from_probabilities(self.labels, row) for row in probabilities]
