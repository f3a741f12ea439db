"""Candle intervals in seconds, the one table every provider's candle code shares."""

from typing import Final

from cryptohub.common.events import Interval

SECONDS: Final[dict[Interval, int]] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "4h": 14_400,
    "1d": 86_400,
}


def interval_seconds(interval: Interval) -> int:
    return SECONDS[interval]
