"""The collector end to end: real NATS (a fresh embedded server per test), real HTTP to the
fault-injecting replay server, the real provider clients, pools, schedules and publisher."""

import asyncio
import itertools
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from cryptohub.collector_market.app import Collector, open_collector
from cryptohub.collector_market.settings import LimitOverride, Settings
from cryptohub.common import subjects
from cryptohub.common.bus.publish import MSG_ID_HEADER
from cryptohub.common.events import (
    Candle,
    Event,
    MarketGlobal,
    PriceTick,
    ProviderAttempt,
    TvlPoint,
    decode,
)
from cryptohub.common.ids import message_id, natural_key
from cryptohub.common.replay import Fault, ReplayServer

log = logging.getLogger(__name__)
Body = Callable[[str], bytes]

PROVIDERS = (
    "coingecko",
    "binance",
    "kraken",
    "cryptocompare",
    "coinmarketcap",
    "coinpaprika",
    "coincap",
    "defillama",
)
ALL_PROVIDERS = (*PROVIDERS, "cryptocompare_data", "defillama_coins")
# /v2/chains has no recording: the field examples of DefiLlama's OpenAPI document.
DOCUMENTED_CHAINS = (
    b'[{"gecko_id": "ethereum", "tvl": 65998652431.40251, "tokenSymbol": "ETH",'
    b' "cmcId": "1027", "name": "Ethereum", "chainId": 1}]'
)
# Two minutes of replicas by hand: CRYPTOHUB_TEST_REPLICA_SECONDS=60 pytest -k replicas
REPLICA_SECONDS = float(os.environ.get("CRYPTOHUB_TEST_REPLICA_SECONDS", "10"))


@pytest.fixture
def served(replay_server: ReplayServer, body: Body) -> ReplayServer:
    """The recorded bodies on the paths the collector asks. The recorded routes match other
    queries (a single symbol, another quote), so the same recorded bytes are added here."""
    add = replay_server.add_route
    add("binance", "GET", "/api/v3/ticker/24hr", body("binance/ticker_24hr_btcusdt_testnet.json"))
    add("kraken", "GET", "/0/public/Ticker", body("kraken/ticker_xbtusdt.json"))
    add("coingecko", "GET", "/api/v3/simple/price", body("coingecko/simple_price_bitcoin_usd.json"))
    # /v1/tickers answers an array of these objects; the parser reads the single one as well.
    add("coinpaprika", "GET", "/v1/tickers", body("coinpaprika/tickers_btc-bitcoin_usd.json"))
    # CoinCap v3 answers /v3/assets in the recorded v2 shape.
    add("coincap", "GET", "/v3/assets", body("coincap/v2_assets_ids_bitcoin_ethereum.json"))
    add("defillama", "GET", "/v2/chains", DOCUMENTED_CHAINS)
    # routes.json answers coins/markets?ids=<watch list> with the 2022 top-250 recording (for
    # `cryptohub up --replay`); its prices carry their 2022 times and are stale here. These tests
    # price CoinGecko through simple/price, so coins/markets with ids gets the replay server's
    # 404 (what it answered before that route existed); the watch list (no ids) keeps its body.
    not_found = b'{"error": "no recorded body for this query"}'
    add("coingecko", "GET", "/api/v3/coins/markets", not_found, status=404)
    listing = body("coingecko/coins_markets_usd_per_page250.json")
    add("coingecko", "GET", "/api/v3/coins/markets", listing, query={"ids": None})
    return replay_server


def environ(replay: ReplayServer) -> dict[str, str]:
    env = {f"CRYPTOHUB_{p.upper()}_BASE_URL": replay.base_url(p) for p in PROVIDERS}
    env["COINMARKETCAP_API_KEY"] = "test-cmc-key-0001"
    env["COINCAP_API_KEY"] = "test-coincap-key-0001"
    return env


def fast(nats_url: str, **overrides: Any) -> Settings:
    """Seconds instead of minutes; limits generous enough that quota never paces a test."""
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "log_json": False,
        "publish_timeout_s": 2.0,
        "watch_top_n": 20,
        "watch_refresh_s": 600.0,
        "coins_index_refresh_s": 600.0,
        "price_interval_s": 0.4,
        "price_sources": 8,
        "consensus_max_age_s": 1.5,
        # The recordings come from different years: a spread guard of 5% would refuse them all.
        "consensus_max_spread_pct": 1000.0,
        "candle_symbols": ["btc"],
        "candle_intervals": ["1m"],
        "candle_backfill": 5,
        "candle_min_poll_s": 0.5,
        "candle_max_poll_s": 1.0,
        "global_interval_s": 1.0,
        "tvl_interval_s": 1.0,
        "tvl_top_n": 3,
        "provider_limits": {p: LimitOverride(per_second=1000) for p in ALL_PROVIDERS},
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Seen:
    event: Event
    subject: str
    msg_id: str | None
    at: float


async def stored(js: JetStreamContext, subject: str) -> list[Seen]:
    """Every message a stream holds on `subject` (ordered ephemeral read)."""
    sub = await js.subscribe(subject, ordered_consumer=True)
    seen = []
    try:
        while True:
            msg = await sub.next_msg(timeout=0.5)
            seen.append(
                Seen(decode(msg.data), msg.subject, (msg.headers or {}).get(MSG_ID_HEADER), 0.0)
            )
    except nats.errors.TimeoutError:
        pass
    finally:
        await sub.unsubscribe()
    return seen


@asynccontextmanager
async def running(
    settings: Settings, env: dict[str, str]
) -> AsyncIterator[tuple[Collector, asyncio.Event]]:
    stop = asyncio.Event()
    async with open_collector(settings, env) as collector:
        task = asyncio.create_task(collector.run(stop))
        try:
            yield collector, stop
        finally:
            stop.set()
            async with asyncio.timeout(15):
                await task


async def live(nc: NatsClient, subject: str) -> tuple[list[Seen], Callable[[], Any]]:
    """Events as they are published on `subject` (core subscription), with their arrival time."""
    seen: list[Seen] = []

    async def on(msg: Any) -> None:
        seen.append(Seen(decode(msg.data), msg.subject, None, time.monotonic()))

    sub = await nc.subscribe(subject, cb=on)
    return seen, sub.unsubscribe


async def until(condition: Callable[[], bool], within: float, what: str) -> None:
    try:
        async with asyncio.timeout(within):
            while not condition():  # noqa: ASYNC110 - several sources feed the condition
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"not within {within}s: {what}") from None


async def test_collector_publishes_valid_events_on_the_right_subjects(
    served: ReplayServer, fresh_nats: str, nc: NatsClient
) -> None:
    js = nc.jetstream()
    published, stop_watching = await live(nc, subjects.everything())
    wanted_sources = {"binance", "kraken", "coingecko", "coinpaprika", "coincap", "coinmarketcap"}

    def complete() -> bool:
        events = [s.event for s in published]
        sources = {e.source for e in events if isinstance(e, PriceTick)}
        kinds = {type(e) for e in events}
        totals = [e for e in events if isinstance(e, TvlPoint) and e.protocol == "all"]
        return (
            wanted_sources | {"consensus"} <= sources
            and {Candle, MarketGlobal, TvlPoint} <= kinds
            and any(p.chain is None for p in totals)
        )

    async with running(fast(fresh_nats), environ(served)):
        await until(complete, 20, "every kind of event, ticks from every provider")
    await stop_watching()

    market = await stored(js, subjects.tree("market"))
    defi = await stored(js, subjects.tree("defi"))
    everything = market + defi
    for seen in everything:
        assert seen.subject == subjects.subject_for(seen.event)
        assert seen.msg_id == message_id(seen.event)
    kinds = {type(s.event) for s in everything}
    assert kinds == {PriceTick, Candle, MarketGlobal, TvlPoint}

    ticks = [s.event for s in market if isinstance(s.event, PriceTick)]
    assert wanted_sources | {"consensus"} <= {t.source for t in ticks}
    btc = {t.source: t for t in ticks if t.symbol == "btc" and t.source != "consensus"}
    assert btc["binance"].price == 65861.66
    assert btc["binance"].quote == "usdt"
    assert btc["kraken"].price == 105899.4
    assert btc["coingecko"].price in (38938, 49253)  # coins/markets or simple/price
    agreed = [t for t in ticks if t.source == "consensus"]
    assert {t.symbol for t in agreed} == {"btc", "eth"}
    assert all(t.quote == "usd" and t.confidence is not None for t in agreed)
    # Recorded years ago, CoinPaprika's, CMC's and CoinGecko's markets ticks are stale: never
    # contributors. Binance, Kraken, CoinCap and simple/price give no time: observed in the slot.
    for tick in agreed:
        assert set(tick.contributors) <= {"binance", "kraken", "coingecko", "coincap"}
    eth = [t for t in agreed if t.symbol == "eth"]
    # Only CoinCap prices ETH freshly here: published, with the low single-source confidence.
    assert all(t.contributors == ("coincap",) and t.confidence == 0.25 for t in eth)
    assert {t.price for t in eth} == {1233.8004800756319780}

    candles = [s.event for s in market if isinstance(s.event, Candle)]
    assert candles
    assert {(c.symbol, c.interval, c.source) for c in candles} == {("btc", "1m", "binance")}
    assert all(c.is_final for c in candles)  # the recorded bars closed in 2021
    assert len(candles) == 5  # the backfill, once

    [market_global, *_] = [s.event for s in market if isinstance(s.event, MarketGlobal)]
    assert (market_global.source, market_global.btc_dominance_pct) == (
        "coingecko",
        38.259132842486686,
    )

    tvl = [s.event for s in defi if isinstance(s.event, TvlPoint)]
    assert {"curve", "makerdao", "aave", "all"} <= {p.protocol for p in tvl}
    total = [p for p in tvl if p.protocol == "all" and p.chain is None]
    assert total
    # /v2/historicalChainTvl has no recording (404 here): the pool fell back to /charts.
    assert total[0].tvl_usd == 189871140356.02234

    attempts = await stored(js, subjects.all_provider_attempts())
    assert {"binance", "kraken", "coingecko", "defillama"} <= {
        s.event.provider for s in attempts if isinstance(s.event, ProviderAttempt)
    }


async def test_when_a_provider_fails_mid_run_prices_keep_flowing_and_contributors_follow(
    served: ReplayServer, fresh_nats: str, nc: NatsClient
) -> None:
    settings = fast(
        fresh_nats,
        disabled_providers=["cryptocompare", "coinmarketcap", "coinpaprika", "coincap"],
        candle_symbols=[],
        tvl_top_n=0,
    )
    ticks, stop_ticks = await live(nc, subjects.price("btc"))

    def consensus_since(moment: float) -> list[PriceTick]:
        return [
            s.event
            for s in ticks
            if s.at >= moment and isinstance(s.event, PriceTick) and s.event.source == "consensus"
        ]

    async with running(settings, environ(served)):
        await until(
            lambda: any(
                t.contributors == ("binance", "coingecko", "kraken") for t in consensus_since(0)
            ),
            15,
            "a consensus of three providers",
        )
        served.inject("kraken", "/0/public/Ticker", Fault(status=503))
        failed_at = time.monotonic()
        stale_by = failed_at + settings.consensus_max_age_s + settings.price_interval_s
        await until(
            lambda: any(
                t.contributors == ("binance", "coingecko") for t in consensus_since(stale_by)
            ),
            15,
            "a consensus without kraken",
        )
    await stop_ticks()

    after = consensus_since(stale_by)
    assert after
    assert all("kraken" not in t.contributors for t in after)
    assert {t.price for t in after} == {(65861.66 + 49253) / 2}
    raw_after = {
        s.event.source for s in ticks if s.at >= stale_by and isinstance(s.event, PriceTick)
    }
    assert {"binance", "coingecko"} <= raw_after
    assert "kraken" not in raw_after
    assert served.request_count("kraken", "/0/public/Ticker") > 1  # it was asked, and failed


async def test_429_with_retry_after_means_no_call_before_it_expires(
    served: ReplayServer, fresh_nats: str, nc: NatsClient
) -> None:
    settings = fast(
        fresh_nats,
        disabled_providers=["cryptocompare", "coinmarketcap", "coinpaprika", "coincap"],
        candle_symbols=[],
        tvl_top_n=0,
        price_interval_s=0.25,
    )
    served.inject("kraken", "/0/public/Ticker", Fault(status=429, retry_after="2", times=1))
    ticks, stop_ticks = await live(nc, subjects.price("btc"))
    async with running(settings, environ(served)):
        await until(
            lambda: served.request_count("kraken", "/0/public/Ticker") >= 2,
            15,
            "kraken asked again after its Retry-After",
        )
    await stop_ticks()
    calls = [
        r.at for r in served.requests if r.provider == "kraken" and r.path == "/0/public/Ticker"
    ]
    assert calls[1] - calls[0] >= 2.0
    during = [
        s
        for s in ticks
        if calls[0] < s.at < calls[1]
        and isinstance(s.event, PriceTick)
        and s.event.source == "binance"
    ]
    assert during  # prices kept flowing from the others meanwhile


async def test_two_replicas_publish_no_duplicate_fact(
    served: ReplayServer, fresh_nats: str, nc: NatsClient
) -> None:
    settings = fast(
        fresh_nats,
        disabled_providers=["cryptocompare", "coinmarketcap", "coinpaprika", "coincap"],
        price_interval_s=1.0,
    )
    env = environ(served)
    async with running(settings, env) as (one, _), running(settings, env) as (two, _):
        await asyncio.sleep(REPLICA_SECONDS)
    js = nc.jetstream()
    facts = await stored(js, subjects.tree("market")) + await stored(js, subjects.tree("defi"))
    assert facts

    keys = [
        (type(s.event).__name__, s.event.source, natural_key(s.event), s.event.observed_at)
        for s in facts
    ]
    assert len(keys) == len(set(keys)), "a fact is stored twice"
    assert len({s.msg_id for s in facts}) == len(facts)

    # Facts a provider gave no time for are observed in the poll slot both replicas share: no
    # two observations of one series closer than the interval (they would be the same, twice).
    series: dict[tuple[str, str, str], list[float]] = {}
    for s in facts:
        if isinstance(s.event, PriceTick):
            key = (s.event.source, s.event.symbol, s.event.quote)
            series.setdefault(key, []).append(s.event.observed_at.timestamp())
    assert ("consensus", "btc", "usd") in series
    for key, moments in series.items():
        moments.sort()
        gaps = [b - a for a, b in itertools.pairwise(moments)]
        assert all(gap >= settings.price_interval_s * 0.5 for gap in gaps), key
    # Both replicas did publish: JetStream dropped the second copy of each shared fact.
    assert one.outbox.counts.duplicates + two.outbox.counts.duplicates > 0
    log.info(
        "replicas for %.0fs: %d facts stored (%s); publishes stored %d + %d, dropped as "
        "duplicates %d + %d",
        REPLICA_SECONDS,
        len(facts),
        ", ".join(
            f"{k} {v}" for k, v in sorted(Counter(type(s.event).__name__ for s in facts).items())
        ),
        one.outbox.counts.stored,
        two.outbox.counts.stored,
        one.outbox.counts.duplicates,
        two.outbox.counts.duplicates,
    )
