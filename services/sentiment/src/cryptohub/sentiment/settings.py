"""The sentiment service's settings, read once from CRYPTOHUB_SENTIMENT_* variables."""

from typing import Literal

from pydantic import Field

from cryptohub.common.events import SentimentLabel
from cryptohub.common.settings import ServiceSettings

Backend = Literal["auto", "bert", "lexicon"]
Device = Literal["auto", "cpu", "cuda"]

# Classes some models only name LABEL_i in their config. kk08/CryptoBERT is a two-class news
# model; the hub this service replaces read its LABEL_0 as negative and LABEL_1 as positive.
DEFAULT_LABEL_MAP: dict[str, dict[str, SentimentLabel]] = {
    "kk08/CryptoBERT": {"LABEL_0": "bearish", "LABEL_1": "bullish"},
}


class Settings(ServiceSettings):
    """Every field is `CRYPTOHUB_<NAME>`; the shared ones come from ServiceSettings."""

    service: str = "sentiment"

    # --- models
    sentiment_backend: Backend = "auto"
    sentiment_news_model: str = "kk08/CryptoBERT"
    sentiment_news_revision: str | None = None
    sentiment_social_model: str = "ElKulako/cryptobert"
    sentiment_social_revision: str | None = None
    sentiment_social_sources: tuple[str, ...] = ("reddit",)
    sentiment_label_map: dict[str, dict[str, SentimentLabel]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_LABEL_MAP.items()}
    )
    sentiment_allow_download: bool = False
    sentiment_hf_cache_dir: str | None = None
    sentiment_device: Device = "auto"
    sentiment_threads: int = Field(default=0, ge=0)
    sentiment_max_tokens: int = Field(default=128, ge=8, le=4096)
    sentiment_max_chars: int = Field(default=2000, ge=64)

    # --- dynamic batching
    sentiment_batch_size: int = Field(default=16, ge=1, le=1024)
    sentiment_batch_wait_ms: float = Field(default=25.0, ge=0)

    # --- consumption
    sentiment_consumer: str = Field(default="sentiment", pattern=r"^[A-Za-z0-9_-]+$")
    sentiment_backfill_hours: float = Field(default=24.0, ge=0)
    sentiment_fetch_batch: int = Field(default=32, ge=1, le=1000)
    sentiment_max_in_flight: int = Field(default=64, ge=1)
    sentiment_ack_wait_s: float = Field(default=120.0, gt=0)
    sentiment_scored_bucket: str = Field(default="sentiment_scored", pattern=r"^[A-Za-z0-9_-]+$")
    sentiment_assets_bucket: str = Field(default="sentiment_assets", pattern=r"^[A-Za-z0-9_-]+$")

    # --- per-asset aggregation
    sentiment_half_life_1h_s: float = Field(default=1800.0, gt=0)
    sentiment_half_life_24h_s: float = Field(default=6 * 3600.0, gt=0)
    sentiment_label_threshold: float = Field(default=0.15, ge=0, le=1)
    sentiment_refresh_s: float = Field(default=60.0, gt=0)
