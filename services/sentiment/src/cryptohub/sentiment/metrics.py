"""Prometheus metrics of the sentiment service (stable names, on its /metrics)."""

from prometheus_client import Counter, Histogram

__all__ = ["articles", "batch_size", "inference_seconds", "truncated"]

articles = Counter(
    "cryptohub_sentiment_articles_total",
    "Articles handled, by model and outcome: scored, already_scored (same model version), "
    "rejected (undecodable or nothing to read), failed (redelivered later).",
    ["model", "outcome"],
)
truncated = Counter(
    "cryptohub_sentiment_truncated_total",
    "Articles whose text was cut to CRYPTOHUB_SENTIMENT_MAX_CHARS before tokenization.",
)
batch_size = Histogram(
    "cryptohub_sentiment_batch_size",
    "Texts per model batch.",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
inference_seconds = Histogram(
    "cryptohub_sentiment_inference_seconds",
    "Time to score one batch.",
    ["model"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
