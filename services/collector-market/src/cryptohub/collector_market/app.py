"""Wiring: NATS, KV provider_state, the HTTP client and provider clients, pools, schedules."""

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from cryptohub.collector_market.candles import CandleSeries
from cryptohub.collector_market.catalog import Catalog, candle_poll_seconds
from cryptohub.collector_market.clients import make_clients
from cryptohub.collector_market.consensus import Policy
from cryptohub.collector_market.market_global import GlobalJob
from cryptohub.collector_market.outbox import Outbox
from cryptohub.collector_market.prices import PriceJob
from cryptohub.collector_market.schedule import Job, Slots, run_every
from cryptohub.collector_market.settings import Settings
from cryptohub.collector_market.tvl import TvlJob
from cryptohub.collector_market.watch import WatchJob, WatchState
from cryptohub.collector_market.watchlist import build_watchlist
from cryptohub.common import subjects
from cryptohub.common.bus.broker import create_broker, prepare_jetstream
from cryptohub.common.bus.publish import AttemptPublisher, EventPublisher
from cryptohub.common.events import Candle, Interval, decode_as
from cryptohub.common.providers import KvProviderStates, ProviderClient, ProviderStates
from cryptohub.common.streams import MARKET, PROVIDER_STATE_KV

log = logging.getLogger(__name__)

# Share of the price interval a cycle waits for its providers before publishing what it has.
PRICE_PATIENCE = 0.8


class StoredCandles:
    """The newest candle MARKET holds on a series' subject, to resume a backfill after it."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def __call__(self, symbol: str, interval: Interval) -> Candle | None:
        try:
            message = await self._js.get_last_msg(MARKET.name, subjects.ohlcv(symbol, interval))
        except NotFoundError:
            return None
        try:
            return decode_as(message.data or b"", Candle)
        except (msgspec.DecodeError, ValueError) as exc:
            log.warning("unreadable stored candle on %s %s: %s", symbol, interval, exc)
            return None


def policy(settings: Settings) -> Policy:
    return Policy(
        max_age=timedelta(seconds=settings.consensus_max_age_s),
        mad_k=settings.consensus_mad_k,
        min_deviation_pct=settings.consensus_min_deviation_pct,
        max_spread_pct=settings.consensus_max_spread_pct,
        target_sources=settings.consensus_target_sources,
        single_confidence=settings.consensus_single_confidence,
    )


class Collector:
    """Every capability's job on its own schedule."""

    def __init__(
        self,
        settings: Settings,
        clients: Mapping[str, ProviderClient],
        states: ProviderStates,
        outbox: Outbox,
        *,
        stored_candles: StoredCandles | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self._clock = clock
        catalog = Catalog(settings, clients, states, clock=clock)
        self.watch = WatchState(book=build_watchlist([], top_n=0, extra=settings.watch_extra).book)
        watch_job = WatchJob(
            catalog.ranking(),
            catalog.coins(),
            self.watch,
            top_n=settings.watch_top_n,
            extra=settings.watch_extra,
        )
        self.prices = PriceJob(
            catalog.prices(self.watch),
            self.watch,
            outbox,
            want=settings.price_sources,
            policy=policy(settings),
            usd_quotes=settings.usd_quotes,
            replay=settings.replay,
        )
        if settings.replay:
            log.warning(
                "replay mode (CRYPTOHUB_REPLAY): prices come from recordings; their consensus "
                "is judged on the recordings' own clock and dated when they were recorded"
            )
        series = [
            CandleSeries(
                catalog.candles(symbol, interval),
                outbox,
                symbol=symbol,
                interval=interval,
                backfill=settings.candle_backfill,
                last_stored=stored_candles,
            )
            for symbol in dict.fromkeys(settings.candle_symbols)
            for interval in dict.fromkeys(settings.candle_intervals)
        ]
        global_job = GlobalJob(catalog.market_global(), outbox)
        tvl_job = TvlJob(catalog.tvl(), outbox)
        intervals = catalog.apply_quota()

        def every(pool: str, wanted: float) -> float:
            return intervals.get(pool, wanted)

        # A price cycle never waits on a slow provider past most of its interval.
        self.prices.patience = PRICE_PATIENCE * every("prices", settings.price_interval_s)

        jitter = settings.schedule_jitter
        self.schedules: list[tuple[Slots, Job, bool]] = [
            (
                Slots("watchlist", every("watchlist", settings.watch_refresh_s), jitter),
                watch_job.refresh,
                True,
            ),
            (
                Slots("coin_index", every("coin_index", settings.coins_index_refresh_s), jitter),
                watch_job.refresh_index,
                False,
            ),
            (
                Slots("prices", every("prices", settings.price_interval_s), jitter),
                self.prices.run,
                False,
            ),
            (
                Slots("market_global", every("market_global", settings.global_interval_s), jitter),
                global_job.run,
                False,
            ),
            (Slots("tvl", every("tvl_total", settings.tvl_interval_s), jitter), tvl_job.run, False),
        ]
        for s in series:
            name = f"candles_{s.symbol}_{s.interval}"
            wanted = every(name, candle_poll_seconds(s.interval, settings))
            self.schedules.append((Slots(name, wanted, jitter), s.run, False))

    async def run(self, stop: asyncio.Event) -> None:
        """Run every schedule until `stop` is set."""
        try:
            await asyncio.gather(
                *(
                    run_every(slots, job, stop, immediately=now, clock=self._clock)
                    for slots, job, now in self.schedules
                )
            )
        finally:
            await self.prices.close()


@asynccontextmanager
async def open_collector(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> AsyncIterator[Collector]:
    """A collector connected to NATS (streams and KV ready, provider states watched, attempts
    published) with its HTTP client; everything closed on exit."""
    env = os.environ if environ is None else environ
    broker = create_broker(settings)
    await broker.connect()
    try:
        await prepare_jetstream(broker.connection)
        js = broker.connection.jetstream()
        states = KvProviderStates(await js.key_value(PROVIDER_STATE_KV.bucket))
        await states.start()
        publisher = EventPublisher(broker, timeout=settings.publish_timeout_s)
        attempts = AttemptPublisher(publisher)
        attempts.start()
        try:
            timeout = httpx.Timeout(settings.http_timeout_s)
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
                clients = make_clients(settings, env, http, attempts)
                yield Collector(
                    settings,
                    clients,
                    states,
                    Outbox(publisher),
                    stored_candles=StoredCandles(js),
                )
        finally:
            await attempts.stop()
            await states.stop()
    finally:
        await broker.stop()
