"""Pure logic of the WebSocket side: channels, the outbox's backpressure, the subscription index."""

import asyncio
from datetime import UTC, datetime

import pytest

from cryptohub.common.events import (
    BlockHead,
    Event,
    GasQuote,
    PriceTick,
    ProviderStatusChange,
    WhaleTransfer,
    encode,
)
from cryptohub.common.streams import MARKET, stream_for_subject
from cryptohub.common.subjects import subject_for
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.ws.channels import (
    ChannelError,
    channel_of,
    conflation_key,
    normalise,
    patterns_collide,
    reduce_patterns,
    subject_pattern,
)
from cryptohub.gateway.ws.frames import (
    ClientMessageError,
    data_frame,
    parse_client_message,
    parse_seq,
    rfc3339,
)
from cryptohub.gateway.ws.index import SubscriptionIndex
from cryptohub.gateway.ws.master_data import DATA_SERVICES, MasterData
from cryptohub.gateway.ws.outbox import Entry, Outbox


def test_channels_are_subjects_without_prefix_and_news_is_an_alias() -> None:
    assert subject_pattern(normalise("market.price.BTC")) == "cryptohub.v1.market.price.btc"
    assert subject_pattern(normalise("news")) == "cryptohub.v1.news.article"
    assert channel_of("cryptohub.v1.news.article") == "news"
    assert channel_of("cryptohub.v1.chain.gas.ethereum") == "chain.gas.ethereum"
    assert normalise("alert.*") == "alert.*"
    assert normalise("market.>") == "market.>"


@pytest.mark.parametrize(
    "bad", ["", "market..btc", "market.>.btc", "market.price.b tc", "a" * 300, 42, None, "x.$"]
)
def test_invalid_channels_are_refused_with_a_reason(bad: object) -> None:
    with pytest.raises(ChannelError, match="invalid channel"):
        normalise(bad)


def test_pattern_algebra_used_for_resume_filters() -> None:
    assert patterns_collide("cryptohub.v1.market.*.btc", "cryptohub.v1.market.price.*")
    assert not patterns_collide("cryptohub.v1.market.price.*", "cryptohub.v1.chain.gas.*")
    assert patterns_collide("cryptohub.v1.>", "cryptohub.v1.news.article")
    assert reduce_patterns(
        ["cryptohub.v1.market.price.btc", "cryptohub.v1.market.price.*", "cryptohub.v1.alert.*"]
    ) == ["cryptohub.v1.alert.*", "cryptohub.v1.market.price.*"]


def test_only_price_subjects_conflate_and_per_source() -> None:
    assert conflation_key("cryptohub.v1.market.price.btc", "consensus") != conflation_key(
        "cryptohub.v1.market.price.btc", "binance"
    )
    assert conflation_key("cryptohub.v1.news.article", "rss") is None
    assert conflation_key("cryptohub.v1.market.global", "coingecko") is None


def _tick_message(seq: int) -> FeedMessage:
    now = datetime(2025, 12, 13, 15, 18, 11, 123456, tzinfo=UTC)
    tick = PriceTick(source="consensus", observed_at=now, received_at=now, symbol="btc", price=1.5)
    return FeedMessage("cryptohub.v1.market.price.btc", tick, encode(tick), MARKET.name, seq, now)


def test_data_frame_has_channel_seq_ts_and_the_published_payload() -> None:
    import json

    frame = json.loads(data_frame(_tick_message(42)))
    assert frame["channel"] == "market.price.btc"
    assert frame["seq"] == "MARKET:42"
    assert frame["ts"] == "2025-12-13T15:18:11.123Z"
    assert frame["data"]["price"] == 1.5
    assert frame["data"]["type"] == "price_tick"
    assert "snapshot" not in frame
    assert json.loads(data_frame(_tick_message(1), snapshot=True))["snapshot"] is True
    assert rfc3339(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2025-01-02T03:04:05.000Z"


@pytest.mark.parametrize(
    ("text", "code"),
    [("not json", "bad_request"), ("[1, 2]", "bad_request"), ('{"channels": []}', "bad_request")],
)
def test_malformed_client_messages_raise_a_coded_error(text: str, code: str) -> None:
    with pytest.raises(ClientMessageError) as caught:
        parse_client_message(text)
    assert caught.value.code == code


def test_resume_positions_parse_and_reject_garbage() -> None:
    assert parse_seq("market:17") == ("MARKET", 17)
    for bad in ("MARKET", "MARKET:-1", "MARKET:1e5", ":5", 5, "MARKET:" + "9" * 30):
        with pytest.raises(ClientMessageError):
            parse_seq(bad)


async def test_outbox_conflates_same_key_once_half_full_and_keeps_stream_order() -> None:
    box = Outbox(capacity=4)
    box.offer(Entry("btc1", key="btc", seq=1))
    box.offer(Entry("btc2", key="btc", seq=2))  # keeping up: no conflation yet
    box.offer(Entry("eth3", key="eth", seq=3))
    box.offer(Entry("btc4", key="btc", seq=4))  # half full: replaces btc2, goes to the back
    box.offer(Entry("btc5", key="btc", seq=5))
    assert [e.frame for e in box.drain()] == ["btc1", "eth3", "btc5"]
    assert box.conflated == 2
    assert box.take_dropped() == {}


async def test_outbox_drops_oldest_at_capacity_and_counts_by_channel() -> None:
    box = Outbox(capacity=3)
    for i in range(5):
        assert box.offer(Entry(f"n{i}", channel="news")) is (i < 3)
    assert [e.frame for e in box.drain()] == ["n2", "n3", "n4"]
    assert box.take_dropped() == {"news": 2}
    assert box.take_dropped() == {}


async def test_outbox_tracks_how_long_the_writer_is_behind() -> None:
    box = Outbox(capacity=3)
    assert box.behind_since is None
    box.offer(Entry("a"))
    assert box.behind_since is not None
    assert (await box.get()).frame == "a"
    getter = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    assert box.behind_since is None  # the writer came back to an empty queue: caught up
    box.offer(Entry("b"))
    assert (await asyncio.wait_for(getter, 1)).frame == "b"


async def test_outbox_put_waits_for_room_and_gives_up_when_closed() -> None:
    box = Outbox(capacity=1)
    assert await box.put(Entry("a"))
    waiting = asyncio.create_task(box.put(Entry("b")))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    assert (await box.get()).frame == "a"
    assert await asyncio.wait_for(waiting, 1)
    blocked = asyncio.create_task(box.put(Entry("c")))
    await asyncio.sleep(0.01)
    box.close()
    assert await asyncio.wait_for(blocked, 1) is False


def test_index_delivers_once_per_subscriber_and_forgets_empty_patterns() -> None:
    index: SubscriptionIndex[str] = SubscriptionIndex()
    index.add("cryptohub.v1.market.price.*", "a")
    index.add("cryptohub.v1.market.price.btc", "a")
    index.add("cryptohub.v1.market.price.btc", "b")
    assert sorted(index.subscribers("cryptohub.v1.market.price.btc")) == ["a", "b"]
    assert sorted(index.subscribers("cryptohub.v1.market.price.eth")) == ["a"]
    assert list(index.subscribers("cryptohub.v1.news.article")) == []
    index.remove("cryptohub.v1.market.price.*", "a")
    assert list(index.subscribers("cryptohub.v1.market.price.eth")) == []
    assert len(index) == 1


def _message(event: Event, seq: int) -> FeedMessage:
    subject = subject_for(event)
    return FeedMessage(subject, event, encode(event), stream_for_subject(subject).name, seq, _T)


_T = datetime(2025, 12, 13, 15, 0, tzinfo=UTC)


def test_master_payloads_come_from_live_state_and_say_none_when_empty() -> None:
    live = LiveState()
    data = MasterData(live, news_items=10)
    assert [data.build(s) for s in DATA_SERVICES] == [None] * len(DATA_SERVICES)
    base = {"observed_at": _T, "received_at": _T}
    events: list[Event] = [
        GasQuote(
            source="etherscan", chain="ethereum", slow_gwei=1, standard_gwei=2, fast_gwei=3, **base
        ),
        BlockHead(
            source="rpc", chain="ethereum", number=21_000_000, hash="0xab", tx_count=150, **base
        ),
        WhaleTransfer(
            source="rpc",
            chain="ethereum",
            tx_hash="0xfeed",
            from_address="0x1",
            to_address="0x2",
            symbol="usdt",
            amount=5e6,
            usd_value=5e6,
            **base,
        ),
        ProviderStatusChange(
            source="health",
            provider="binance",
            previous="online",
            current="offline",
            reason="errors",
            **base,
        ),
        ProviderStatusChange(
            source="health",
            provider="coingecko",
            previous="degraded",
            current="online",
            reason="ok",
            **base,
        ),
    ]
    for seq, event in enumerate(events, 1):
        msg = _message(event, seq)
        live.apply(msg)
        data.remember(msg)
    explorers = data.build("explorers")
    assert explorers is not None
    assert explorers["latest_block"] == 21_000_000
    assert explorers["transactions_count"] == 150
    assert explorers["gas_prices"] == {"ethereum": {"safe": 1.0, "propose": 2.0, "fast": 3.0}}
    assert explorers["network_hashrate"] is None  # not collected: not invented
    whales = data.build("whale_tracking")
    assert whales is not None
    assert whales["large_transactions"][0]["hash"] == "0xfeed"
    assert whales["large_transactions"][0]["symbol"] == "USDT"
    assert whales["total_volume"] == 5e6
    health = data.build("health_checker")
    assert health is not None
    assert (health["healthy_count"], health["unhealthy_count"], health["total_providers"]) == (
        1,
        1,
        2,
    )
    assert health["overall_health"] == "unhealthy"
    assert health["providers"]["binance"]["status"] == "offline"
    assert data.build("market_data") is None  # no consensus tick yet
    assert data.build("rpc_nodes") is None
