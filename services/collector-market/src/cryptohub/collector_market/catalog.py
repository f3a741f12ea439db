"""Which provider serves which capability, how, and how often: the pools and their quota.

Every source registers its demand (capability, provider, interval, cost) and gets a gate; once
all are known, `apply_quota()` plans the spacing of each within its provider's limits, logs
once what is slowed and why, and says how often each one-answer capability can run.
"""

import logging
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from cryptohub.collector_market import quota
from cryptohub.collector_market.assets import Asset, AssetBook, Coin
from cryptohub.collector_market.candles import CandleQuery
from cryptohub.collector_market.capability import Capability, Source
from cryptohub.collector_market.gate import Gate
from cryptohub.collector_market.intervals import interval_seconds
from cryptohub.collector_market.known_assets import KNOWN_SYMBOLS
from cryptohub.collector_market.providers import (
    binance,
    coincap,
    coingecko,
    coinmarketcap,
    coinpaprika,
    cryptocompare,
    defillama,
    kraken,
)
from cryptohub.collector_market.settings import Settings
from cryptohub.collector_market.watch import WatchState
from cryptohub.collector_market.watchlist import ListedCoin
from cryptohub.common.events import Candle, Interval, MarketGlobal, PriceTick, TvlPoint
from cryptohub.common.providers import (
    ParseContext,
    ParseFn,
    ProviderClient,
    ProviderStates,
    Request,
    Strategy,
)

log = logging.getLogger(__name__)

Q = TypeVar("Q")
T = TypeVar("T")


def candle_poll_seconds(interval: Interval, settings: Settings) -> float:
    """How often to poll a series: half its interval, within the configured bounds."""
    half = interval_seconds(interval) / 2
    return min(max(half, settings.candle_min_poll_s), settings.candle_max_poll_s)


def duration(seconds: float) -> str:
    """`0.4s`, `32s`, `1710s`: readable in a log line."""
    return f"{seconds:.2g}s" if seconds < 10 else f"{seconds:.0f}s"


def candle_book(symbols: list[str]) -> AssetBook:
    """The configured candle symbols as assets (curated ids where known)."""
    assets = {}
    for symbol in symbols:
        coingecko_id = KNOWN_SYMBOLS.get(symbol, symbol)
        assets[symbol] = Asset(coingecko_id, symbol, coingecko_id)
    return AssetBook(assets.values())


class Catalog:
    """Builds every capability's pool from the enabled clients."""

    def __init__(
        self,
        settings: Settings,
        clients: Mapping[str, ProviderClient],
        states: ProviderStates,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._states = states
        self._clock = clock
        self._demands: list[quota.Demand] = []
        self._gates: dict[tuple[str, str], Gate] = {}
        self._pool_of: dict[str, str] = {}  # demand name -> the pool it serves

    def _source(
        self,
        capability: str,
        interval: float,
        provider: str,
        build: Callable[[Q], Request | None],
        parse: ParseFn[T],
        *,
        cost: int = 1,
        priority: int = 0,
        endpoint: str = "",
    ) -> Source[Q, T] | None:
        """`provider`'s source for `capability`, with its own quota gate (one per endpoint when a
        provider serves a capability through several)."""
        client = self._clients.get(provider)
        if client is None:
            return None
        demand = f"{capability}/{endpoint}" if endpoint else capability
        key = (demand, provider)
        if key not in self._gates:
            self._gates[key] = Gate(demand, provider, interval)
            self._demands.append(quota.Demand(demand, provider, interval, cost))
            self._pool_of[demand] = capability
        return Source(client, build, parse, gate=self._gates[key], priority=priority)

    def _capability(
        self,
        name: str,
        sources: list[Source[Q, T] | None],
        strategy: Strategy = Strategy.PRIORITY,
    ) -> Capability[Q, T]:
        present = [s for s in sources if s is not None]
        return Capability(name, present, states=self._states, strategy=strategy, clock=self._clock)

    # --- the watch list and the coin index

    def ranking(self) -> Capability[int, list[ListedCoin]]:
        every = self._settings.watch_refresh_s
        n = self._settings.watch_top_n
        return self._capability(
            "watchlist",
            [
                self._source(
                    "watchlist",
                    every,
                    coingecko.NAME,
                    lambda top: coingecko.markets_request(top_n=top),
                    coingecko.parse_markets_listing,
                ),
                self._source(
                    "watchlist",
                    every,
                    coinmarketcap.NAME,
                    coinmarketcap.listings_request,
                    coinmarketcap.parse_listings,
                    cost=coinmarketcap.listings_request(n).cost,
                    priority=1,
                ),
                self._source(
                    "watchlist",
                    every,
                    coinpaprika.NAME,
                    lambda _: coinpaprika.TICKERS,
                    coinpaprika.parse_listing,
                    priority=2,
                ),
                self._source(
                    "watchlist",
                    every,
                    coincap.NAME,
                    coincap.assets_request,
                    coincap.parse_listing,
                    priority=3,
                ),
            ],
        )

    def coins(self) -> Capability[None, list[Coin]]:
        return self._capability(
            "coin_index",
            [
                self._source(
                    "coin_index",
                    self._settings.coins_index_refresh_s,
                    coingecko.NAME,
                    lambda _: coingecko.COINS_LIST,
                    coingecko.parse_coins_list,
                )
            ],
        )

    # --- prices

    def prices(self, watch: WatchState) -> Capability[AssetBook, list[PriceTick]]:
        every = self._settings.price_interval_s
        n = self._settings.watch_top_n

        def book_parse(
            parse: Callable[..., list[PriceTick]],
        ) -> ParseFn[list[PriceTick]]:
            return lambda body, ctx: parse(body, ctx, book=watch.book)

        def ids(book: AssetBook) -> list[str]:
            return [a.coingecko_id for a in book.assets]

        def codes(provider: str, book: AssetBook) -> list[str]:
            return [c for a in book.assets if (c := book.code_of(provider, a)) is not None]

        def cmc_ids(book: AssetBook) -> list[str]:
            return [i for a in book.assets if (i := book.id_of(coinmarketcap.NAME, a)) is not None]

        def some(request: Request, wanted: list[str]) -> Request | None:
            return request if wanted else None

        sources: list[Source[AssetBook, list[PriceTick]] | None] = [
            self._source(
                "prices",
                every,
                coingecko.NAME,
                lambda book: some(
                    coingecko.markets_request(top_n=len(book), ids=ids(book)), ids(book)
                ),
                book_parse(coingecko.parse_markets_ticks),
            ),
            self._source(
                "prices",
                every,
                binance.NAME,
                lambda book: some(binance.TICKERS, codes(binance.NAME, book)),
                book_parse(binance.parse_tickers),
                cost=binance.TICKER_WEIGHT,
            ),
            self._source(
                "prices",
                every,
                kraken.NAME,
                lambda book: some(kraken.TICKERS, codes(kraken.NAME, book)),
                book_parse(kraken.parse_ticker),
            ),
            self._source(
                "prices",
                every,
                cryptocompare.NAME,
                lambda book: some(
                    cryptocompare.pricemulti_request(codes(cryptocompare.NAME, book)),
                    codes(cryptocompare.NAME, book),
                ),
                book_parse(cryptocompare.parse_pricemulti),
            ),
            self._source(
                "prices",
                every,
                coinmarketcap.NAME,
                lambda book: coinmarketcap.listings_request(n) if len(book) else None,
                book_parse(coinmarketcap.parse_listings_ticks),
                cost=coinmarketcap.listings_request(n).cost,
            ),
            self._source(
                "prices",
                every,
                coinpaprika.NAME,
                lambda book: coinpaprika.TICKERS if len(book) else None,
                book_parse(coinpaprika.parse_tickers),
            ),
            self._source(
                "prices",
                every,
                coincap.NAME,
                lambda book: coincap.assets_request(max(n, len(book))) if len(book) else None,
                book_parse(coincap.parse_assets),
            ),
            self._source(
                "prices",
                every,
                defillama.COINS_NAME,
                lambda book: some(defillama.coins_request(ids(book)), ids(book)),
                book_parse(defillama.parse_coin_prices),
            ),
        ]
        # Spares within a provider: CoinGecko simple/price, CoinMarketCap quotes by id.
        sources.append(
            self._source(
                "prices",
                every,
                coingecko.NAME,
                lambda book: some(coingecko.simple_price_request(ids(book)), ids(book)),
                book_parse(coingecko.parse_simple_price),
                priority=1,
                endpoint="simple_price",
            )
        )
        sources.append(
            self._source(
                "prices",
                every,
                coinmarketcap.NAME,
                lambda book: some(coinmarketcap.quotes_request(cmc_ids(book)), cmc_ids(book)),
                book_parse(coinmarketcap.parse_quotes),
                priority=1,
                endpoint="quotes",
            )
        )
        return self._capability("prices", sources, self._settings.price_strategy)

    # --- candles

    def candles(self, symbol: str, interval: Interval) -> Capability[CandleQuery, list[Candle]]:
        book = candle_book([symbol])
        asset = book.by_symbol(symbol)
        if asset is None:  # pragma: no cover - candle_book holds every symbol it was given
            raise ValueError(symbol)
        every = candle_poll_seconds(interval, self._settings)
        name = f"candles_{symbol}_{interval}"
        sources: list[Source[CandleQuery, list[Candle]] | None] = []
        code = book.code_of(binance.NAME, asset)
        if code is not None:
            sources.append(
                self._source(
                    name,
                    every,
                    binance.NAME,
                    partial(_klines, code=code, interval=interval),
                    partial(binance.parse_klines, symbol=symbol, interval=interval),
                    cost=binance.KLINES_WEIGHT,
                )
            )
        code = book.code_of(kraken.NAME, asset)
        if code is not None:
            sources.append(
                self._source(
                    name,
                    every,
                    kraken.NAME,
                    partial(_ohlc, code=code, interval=interval),
                    partial(kraken.parse_ohlc, symbol=symbol, code=code, interval=interval),
                    priority=1,
                )
            )
        code = book.code_of(cryptocompare.NAME, asset)
        if code is not None and interval in cryptocompare.HISTORY_UNITS:
            sources.append(
                self._source(
                    name,
                    every,
                    cryptocompare.DATA_NAME,
                    partial(_history, code=code, interval=interval),
                    partial(
                        cryptocompare.parse_history, symbol=symbol, code=code, interval=interval
                    ),
                    priority=2,
                )
            )
        return self._capability(name, sources)

    # --- global market and TVL

    def market_global(self) -> Capability[None, MarketGlobal]:
        every = self._settings.global_interval_s
        return self._capability(
            "market_global",
            [
                self._source(
                    "market_global",
                    every,
                    coingecko.NAME,
                    lambda _: coingecko.GLOBAL,
                    coingecko.parse_global,
                ),
                self._source(
                    "market_global",
                    every,
                    coinpaprika.NAME,
                    lambda _: coinpaprika.GLOBAL,
                    coinpaprika.parse_global,
                    priority=1,
                ),
            ],
        )

    def tvl(self) -> list[Capability[None, list[TvlPoint]]]:
        every = self._settings.tvl_interval_s
        top_n = self._settings.tvl_top_n
        explicit = self._settings.tvl_protocols
        capabilities: list[Capability[None, list[TvlPoint]]] = [
            self._capability(
                "tvl_protocols",
                [
                    self._source(
                        "tvl_protocols",
                        every,
                        defillama.NAME,
                        lambda _: defillama.PROTOCOLS if top_n else None,
                        partial(
                            defillama.parse_protocols, top_n=top_n, exclude=frozenset(explicit)
                        ),
                    )
                ],
            ),
            self._capability(
                "tvl_chains",
                [
                    self._source(
                        "tvl_chains",
                        every,
                        defillama.NAME,
                        lambda _: defillama.CHAINS if top_n else None,
                        partial(defillama.parse_chains, top_n=top_n),
                    )
                ],
            ),
            self._capability(
                "tvl_total",
                [
                    self._source(
                        "tvl_total",
                        every,
                        defillama.NAME,
                        lambda _: defillama.TOTAL,
                        _as_list(defillama.parse_total),
                    ),
                    self._source(
                        "tvl_total",
                        every,
                        defillama.NAME,
                        lambda _: defillama.CHARTS,
                        _as_list(defillama.parse_charts),
                        priority=1,
                        endpoint="charts",
                    ),
                ],
            ),
        ]
        for slug in explicit:
            name = f"tvl_protocol_{slug}"
            capabilities.append(
                self._capability(
                    name,
                    [
                        self._source(
                            name,
                            every,
                            defillama.NAME,
                            partial(_detail, slug=slug),
                            partial(
                                defillama.parse_protocol, protocol=defillama.slug(slug) or slug
                            ),
                        )
                    ],
                )
            )
        return capabilities

    # --- quota

    def apply_quota(self) -> dict[str, float]:
        """Space every source within its provider's limits; the interval each pool can keep
        (slower than wished only if none of its providers may answer that often)."""
        limits = {name: client.spec.limits for name, client in self._clients.items()}
        allotted = quota.plan(
            self._demands,
            limits,
            share=self._settings.quota_share,
            headroom=self._settings.quota_headroom,
        )
        for (demand, provider), allotment in sorted(allotted.items()):
            self._gates[demand, provider].spacing = allotment.spacing
            if allotment.slowed:
                log.info(
                    "quota: %s via %s slowed from every %s to every %s (%s)",
                    demand,
                    provider,
                    duration(allotment.demand.interval),
                    duration(allotment.spacing),
                    allotment.reason,
                )
        intervals: dict[str, float] = {}
        for pool in sorted(set(self._pool_of.values())):
            mine = {key: a for key, a in allotted.items() if self._pool_of[key[0]] == pool}
            wanted = min(a.demand.interval for a in mine.values())
            fastest = min(a.spacing for a in mine.values())
            intervals[pool] = max(wanted, fastest)
            if fastest > wanted * (1 + 1e-9):
                reason = min(mine.values(), key=lambda a: a.spacing).reason
                log.warning(
                    "quota: %s runs every %s instead of every %s: %s",
                    pool,
                    duration(fastest),
                    duration(wanted),
                    reason,
                )
        return intervals


def _klines(query: CandleQuery, *, code: str, interval: Interval) -> Request:
    return binance.klines_request(code, interval, limit=query.limit, start=query.since)


def _ohlc(query: CandleQuery, *, code: str, interval: Interval) -> Request:
    return kraken.ohlc_request(code, interval, since=query.since)


def _history(query: CandleQuery, *, code: str, interval: Interval) -> Request:
    return cryptocompare.history_request(code, interval, limit=query.limit)


def _detail(_: None, *, slug: str) -> Request:
    return defillama.protocol_request(slug)


def _as_list(parse: Callable[[bytes, ParseContext], TvlPoint]) -> ParseFn[list[TvlPoint]]:
    return lambda body, ctx: [parse(body, ctx)]
