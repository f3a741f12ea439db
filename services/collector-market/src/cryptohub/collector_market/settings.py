"""The market collector's settings: CRYPTOHUB_* variables, read once in main()."""

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from cryptohub.common.events import SLUG_PATTERN, SYMBOL_PATTERN, Interval
from cryptohub.common.providers import Strategy
from cryptohub.common.settings import ServiceSettings

CoinGeckoPlan = Literal["auto", "public", "demo", "pro"]

ALL_INTERVALS: tuple[Interval, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")


class LimitOverride(BaseModel):
    """A provider's limits when they differ from the declared ones (e.g. a paid plan)."""

    per_second: float | None = Field(default=None, gt=0)
    per_minute: float | None = Field(default=None, gt=0)
    monthly_credits: int | None = Field(default=None, gt=0)


class Settings(ServiceSettings):
    """Everything the market collector reads; the CRYPTOHUB_ prefix is kept from the base."""

    service: str = "collector-market"

    # --- watch list: the top N by market cap plus an explicit list, refreshed periodically.
    watch_top_n: int = Field(default=100, ge=1, le=250)
    watch_extra: list[str] = Field(default_factory=list)  # CoinGecko ids (or unique symbols)
    watch_refresh_s: float = Field(default=900.0, gt=0)
    coins_index_refresh_s: float = Field(default=86_400.0, gt=0)

    # --- prices and their consensus.
    price_interval_s: float = Field(default=30.0, gt=0)
    price_sources: int = Field(default=5, ge=1)  # providers asked per cycle (spares fill in)
    price_strategy: Strategy = Strategy.LEAST_USED
    consensus_max_age_s: float = Field(default=120.0, gt=0)
    consensus_mad_k: float = Field(default=3.0, gt=0)
    consensus_min_deviation_pct: float = Field(default=1.0, ge=0)
    consensus_max_spread_pct: float = Field(default=5.0, gt=0)
    consensus_target_sources: int = Field(default=3, ge=1)
    consensus_single_confidence: float = Field(default=0.25, ge=0, le=1)
    usd_quotes: list[str] = Field(default_factory=lambda: ["usd", "usdt", "usdc"])

    # --- candles: configured symbols and intervals, backfilled on start.
    candle_symbols: list[str] = Field(default_factory=lambda: ["btc", "eth"])
    candle_intervals: list[Interval] = Field(default_factory=lambda: list(ALL_INTERVALS))
    candle_backfill: int = Field(default=200, ge=1, le=720)
    candle_min_poll_s: float = Field(default=30.0, gt=0)
    candle_max_poll_s: float = Field(default=900.0, gt=0)

    # --- global market and DeFi TVL.
    global_interval_s: float = Field(default=300.0, gt=0)
    tvl_interval_s: float = Field(default=600.0, gt=0)
    tvl_top_n: int = Field(default=50, ge=0)
    tvl_protocols: list[str] = Field(default_factory=list)  # DefiLlama slugs, with chain detail

    # --- providers, quota and schedules.
    coingecko_plan: CoinGeckoPlan = "auto"
    disabled_providers: list[str] = Field(default_factory=list)
    provider_limits: dict[str, LimitOverride] = Field(default_factory=dict)
    quota_share: float = Field(default=1.0, gt=0, le=1)  # of each provider's limits, per replica
    quota_headroom: float = Field(default=0.8, gt=0, le=1)
    schedule_jitter: float = Field(default=0.1, ge=0, le=0.5)  # fraction of each interval
    http_timeout_s: float = Field(default=15.0, gt=0)

    @field_validator("candle_symbols", "usd_quotes", "watch_extra", "disabled_providers")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [v.strip().lower() for v in values if v.strip()]

    @field_validator("candle_symbols", "usd_quotes")
    @classmethod
    def _symbols(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if re.search(SYMBOL_PATTERN, v) is None]
        if bad:
            raise ValueError(f"not lower-case asset symbols: {bad}")
        return values

    @field_validator("tvl_protocols")
    @classmethod
    def _slugs(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if re.search(SLUG_PATTERN, v) is None]
        if bad:
            raise ValueError(f"not DefiLlama protocol slugs: {bad}")
        return values
