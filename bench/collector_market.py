"""collector-market throughput: parsing recorded bodies, building the watch list, consensus.

Runs the service's own code on the recorded bodies in fixtures/providers: CoinGecko coins/markets
(250 coins) into ticks, coins/list (17,892 coins, 1 MB) into the coin index, Kraken OHLC (721
bars) into candles, the watch list (top 100) from the ranking, and a price cycle's consensus
(100 assets x 8 providers). By hand: `.venv/bin/python bench/collector_market.py`.
Figures go in services/collector-market/README.md.
"""

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptohub.collector_market.assets import CoinIndex
from cryptohub.collector_market.consensus import Policy, Quote, consensus
from cryptohub.collector_market.providers import coingecko, kraken
from cryptohub.collector_market.watchlist import build_watchlist
from cryptohub.common.providers import ParseContext

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def per_second(work: Callable[[], int], *, seconds: float = 2.0) -> float:
    """Median units/s over repeated runs of `work` (which returns the units it did)."""
    work()
    rates = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        units = work()
        rates.append(units / (time.perf_counter() - started))
    return statistics.median(rates)


def ctx(provider: str) -> ParseContext:
    return ParseContext(provider=provider, endpoint="bench", received_at=NOW)


def main() -> None:
    markets = (ROOT / "coingecko/coins_markets_usd_per_page250.json").read_bytes()
    coins = (ROOT / "coingecko/coins_list.json").read_bytes()
    ohlc = (ROOT / "kraken/ohlc_xbtusdt_1m.json").read_bytes()
    ranking = coingecko.parse_markets_listing(markets, ctx("coingecko"))
    book = build_watchlist(ranking, top_n=100).book

    def parse_markets() -> int:
        return len(coingecko.parse_markets_ticks(markets, ctx("coingecko"), book=book))

    def parse_coins() -> int:
        return len(CoinIndex(coingecko.parse_coins_list(coins, ctx("coingecko"))))

    def parse_ohlc() -> int:
        return len(kraken.parse_ohlc(ohlc, ctx("kraken"), symbol="btc", code="XBT", interval="1m"))

    def watchlist() -> int:
        return len(build_watchlist(ranking, top_n=100).book)

    rng = random.Random(7)
    policy = Policy(max_age=timedelta(seconds=120))
    cycle = [
        [
            Quote(f"p{p}", 100.0 * (1 + rng.uniform(-0.003, 0.003)), NOW - timedelta(seconds=5))
            for p in range(8)
        ]
        for _ in range(100)
    ]

    def consensus_cycle() -> int:
        for quotes in cycle:
            consensus(quotes, now=NOW, policy=policy)
        return len(cycle)

    print(f"coins/markets 250 -> ticks:   {per_second(parse_markets):>12,.0f} ticks/s")
    print(f"coins/list 1 MB -> index:     {per_second(parse_coins):>12,.0f} coins/s")
    print(f"Kraken OHLC 721 -> candles:   {per_second(parse_ohlc):>12,.0f} candles/s")
    print(f"watch list top 100:           {per_second(watchlist) / 100:>12,.0f} lists/s")
    print(f"consensus, 8 quotes each:     {per_second(consensus_cycle):>12,.0f} assets/s")


if __name__ == "__main__":
    main()
