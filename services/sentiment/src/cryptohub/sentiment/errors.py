"""The sentiment service's errors; each carries what a log line or a caller needs."""

__all__ = [
    "LabelMappingError",
    "ModelUnavailableError",
    "RejectedArticleError",
    "SentimentError",
]


class SentimentError(Exception):
    """Base of this package's errors."""


class ModelUnavailableError(SentimentError):
    """A BERT model cannot be used here; `reason` says why, for the one log line at start."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"model {model} unavailable: {reason}")
        self.model = model
        self.reason = reason


class LabelMappingError(ModelUnavailableError):
    """A model's classes cannot be mapped to bearish / neutral / bullish without guessing."""

    def __init__(self, model: str, detail: str) -> None:
        super().__init__(model, f"cannot map its classes to bearish/neutral/bullish: {detail}")
        self.detail = detail


class RejectedArticleError(SentimentError):
    """An article the service will not score (undecodable, or nothing to read)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"article rejected ({reason}): {detail}")
        self.reason = reason
        self.detail = detail
