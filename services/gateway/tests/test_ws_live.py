"""`/ws` and `/ws/master` end to end: the real gateway app on 127.0.0.1, real NATS, real clients."""

import asyncio
import json
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
import uvicorn
from granian.constants import Interfaces
from granian.server.embed import Server as GranianServer
from litestar import Litestar
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cryptohub.common.embedded.ports import free_port, port_accepts
from cryptohub.common.events import Article, Event, PriceTick, SentimentIndex, encode
from cryptohub.common.streams import ensure_streams
from cryptohub.common.subjects import subject_for
from cryptohub.gateway.app import create_app
from cryptohub.gateway.feed import LiveFeed
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.settings import GatewaySettings
from cryptohub.gateway.ws import WebSocketHub, WsConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

WAIT = 10.0  # every wait on the network is bounded by this


def hub_app(nats_url: str, config: WsConfig) -> Litestar:
    """The WebSocket side of the gateway on its own: the live feed and live state over real NATS,
    the hub, its routes (create_app wires the same pieces plus REST and persistence)."""
    nc = NatsClient()
    feed = LiveFeed(nc)
    live = LiveState()
    hub = WebSocketHub(config, live, nc.jetstream())
    feed.add_listener(live.apply)
    feed.add_listener(hub.on_feed)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await nc.connect(nats_url, connect_timeout=5)
        await ensure_streams(nc.jetstream())
        await feed.start()
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await feed.stop()
            await nc.close()

    return Litestar(route_handlers=hub.route_handlers(), lifespan=[lifespan])


def gateway_app(nats_url: str, config: WsConfig) -> Litestar:
    """The real gateway app, without PostgreSQL."""
    settings = GatewaySettings(
        nats_url=nats_url, database_url=None, persist=False, log_json=False, ws=config
    )
    return create_app(settings)


@asynccontextmanager
async def gateway(
    nats_url: str,
    *,
    app: Callable[[str, WsConfig], Litestar] = hub_app,
    server: Literal["uvicorn", "granian"] = "uvicorn",
    **ws: Any,
) -> AsyncIterator[str]:
    """The app served on 127.0.0.1 (uvicorn by default, or the gateway's default granian);
    yields its ws:// base URL."""
    asgi = app(nats_url, WsConfig(**ws))
    serving = _uvicorn(asgi) if server == "uvicorn" else _granian(asgi)
    async with serving as port:
        yield f"ws://127.0.0.1:{port}"


@asynccontextmanager
async def _uvicorn(app: Litestar) -> AsyncIterator[int]:
    """uvicorn whose connections get a small kernel send buffer (inherited from the listening
    socket): a client that stops reading blocks the server's writes after ~100 KB, not after
    the megabytes loopback autotuning would otherwise absorb."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield listener.getsockname()[1]
    finally:
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await task
        listener.close()


@asynccontextmanager
async def _granian(app: Litestar) -> AsyncIterator[int]:
    """granian embedded in this loop, as `cryptohub run gateway` serves by default."""
    port = free_port()
    server = GranianServer(
        app,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        websockets=True,
        log_enabled=False,
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not await asyncio.to_thread(port_accepts, "127.0.0.1", port, 0.2):
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield port
    finally:
        server.stop()  # type: ignore[no-untyped-call]
        async with asyncio.timeout(WAIT):
            await task


def _now() -> datetime:
    return datetime.now(UTC)


def _symbol() -> str:
    return f"t{secrets.token_hex(3)}"


def tick(symbol: str, price: float, *, source: str = "consensus", pad: int = 0) -> PriceTick:
    now = _now()
    return PriceTick(
        source=source,
        observed_at=now,
        received_at=now,
        symbol=symbol,
        price=price,
        volume_24h=1000.0,
        contributors=tuple(f"provider-{i:03d}" for i in range(pad)),
    )


def article(tag: str, n: int, *, size: int = 100) -> Article:
    now = _now()
    return Article(
        source="rss",
        observed_at=now,
        received_at=now,
        id=f"{tag}-{n}",
        url=f"https://news.example/{tag}/{n}",
        title=f"Article {n}",
        summary="x" * size,
        outlet="Example News",
        symbols=("btc",),
    )


async def publish(js: JetStreamContext, event: Event) -> int:
    """Publish like a collector does; the stream sequence JetStream stored it at."""
    ack = await js.publish(subject_for(event), encode(event))
    return int(ack.seq)


async def recv(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        frame: dict[str, Any] = json.loads(await ws.recv())
    return frame


async def recv_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Frames (pings answered, not returned) up to and including the first that is `done`."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await recv(ws)
        if frame.get("type") == "ping":
            await ws.send('{"action": "pong"}')
            continue
        frames.append(frame)
        if done(frame):
            return frames


async def open_stream(url: str, **kwargs: Any) -> ClientConnection:
    ws = await connect(f"{url}/ws", open_timeout=WAIT, **kwargs)
    assert (await recv(ws))["type"] == "welcome"
    return ws


async def subscribe(ws: ClientConnection, *channels: str, **extra: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"action": "subscribe", "channels": list(channels), **extra}))
    reply = await recv(ws)
    assert reply["type"] == "subscribed", reply
    return reply


def seq_of(frame: dict[str, Any]) -> int:
    _, _, number = frame["seq"].partition(":")
    return int(number)


def is_data(frame: dict[str, Any]) -> bool:
    return "channel" in frame


# --- /ws: subscribe, wildcards, snapshot, unsubscribe


async def test_exact_channel_gets_its_events_with_channel_seq_ts_data(
    nats_url: str, js: JetStreamContext
) -> None:
    btc, eth = _symbol(), _symbol()
    async with gateway(nats_url) as url, await open_stream(url) as ws:
        reply = await subscribe(ws, f"market.price.{btc.upper()}")
        assert reply["subscriptions"] == [f"market.price.{btc}"]
        await publish(js, tick(eth, 2.0))
        seq = await publish(js, tick(btc, 1.0))
        frame = (await recv_until(ws, is_data))[-1]
        assert frame["channel"] == f"market.price.{btc}"
        assert frame["seq"] == f"MARKET:{seq}"
        assert frame["ts"].endswith("Z")
        assert frame["data"]["price"] == 1.0
        assert frame["data"]["symbol"] == btc


async def test_wildcards_match_and_unsubscribe_stops_delivery(
    nats_url: str, js: JetStreamContext
) -> None:
    a, b = _symbol(), _symbol()
    async with gateway(nats_url) as url, await open_stream(url) as ws:
        await subscribe(ws, "market.price.*", "news")
        seqs = [await publish(js, tick(a, 1.0)), await publish(js, tick(b, 2.0))]
        got = await recv_until(ws, lambda f: is_data(f) and f["data"].get("symbol") == b)
        mine = [f for f in got if is_data(f) and f["data"].get("symbol") in (a, b)]
        assert [seq_of(f) for f in mine] == seqs
        await publish(js, article("w", 1))
        news = (await recv_until(ws, lambda f: is_data(f) and f["channel"] == "news"))[-1]
        assert news["data"]["id"] == "w-1"
        assert news["seq"].startswith("NEWS:")

        await ws.send(json.dumps({"action": "unsubscribe", "channels": ["market.price.*"]}))
        reply = (await recv_until(ws, lambda f: f.get("type") == "unsubscribed"))[-1]
        assert reply["subscriptions"] == ["news.article"]
        await publish(js, tick(a, 3.0))
        await publish(js, article("w", 2))  # frames arrive in order: the price would come first
        after = await recv_until(ws, lambda f: is_data(f) and f["channel"] == "news")
        assert [f["channel"] for f in after if is_data(f)] == ["news"]


async def test_latest_value_is_sent_on_subscribe(nats_url: str, js: JetStreamContext) -> None:
    sym = _symbol()
    async with gateway(nats_url) as url:
        async with await open_stream(url) as first:
            await subscribe(first, f"market.price.{sym}")
            await publish(js, tick(sym, 5.0, source="binance"))
            seq = await publish(js, tick(sym, 5.5))
            await recv_until(first, lambda f: is_data(f) and seq_of(f) == seq)
        async with await open_stream(url) as late:
            await subscribe(late, "market.price.*")
            frames = await recv_until(late, lambda f: f.get("data", {}).get("price") == 5.5)
            mine = [f for f in frames if is_data(f) and f["data"]["symbol"] == sym]
            # The latest of each source on the subject, oldest first, marked as a snapshot.
            assert [(f["data"]["source"], f["snapshot"]) for f in mine] == [
                ("binance", True),
                ("consensus", True),
            ]
            assert seq_of(mine[-1]) == seq


# --- /ws: resume


async def test_resume_after_reconnect_has_no_gap_and_no_duplicate(
    nats_url: str, js: JetStreamContext
) -> None:
    sym, other = _symbol(), _symbol()
    channel = f"market.price.{sym}"
    async with gateway(nats_url) as url:
        async with await open_stream(url) as ws:
            await subscribe(ws, channel)
            before = [await publish(js, tick(sym, float(i + 1))) for i in range(3)]
            got = await recv_until(ws, lambda f: is_data(f) and seq_of(f) == before[-1])
            last = [f["seq"] for f in got if is_data(f)][-1]
        # Disconnected: these are missed (other symbols interleave in the same stream).
        missed = []
        for i in range(6):
            missed.append(await publish(js, tick(sym, 10.0 + i)))
            await publish(js, tick(other, 1.0))
        async with await open_stream(url) as ws:
            await ws.send(
                json.dumps({"action": "subscribe", "channels": [channel], "resume": last})
            )
            # Events published while the resume reads history arrive once, after it.
            during = [await publish(js, tick(sym, 20.0 + i)) for i in range(4)]
            frames = await recv_until(ws, lambda f: is_data(f) and seq_of(f) == during[-1])
        resumed = [f for f in frames if f.get("type") == "resumed"]
        assert len(resumed) == 1
        assert resumed[0]["complete"] is True
        assert resumed[0]["replayed"] >= len(missed)  # some of `during` may be history too
        received = [seq_of(f) for f in frames if is_data(f)]
        assert not any(f.get("snapshot") for f in frames if is_data(f))
        assert received == missed + during


async def test_resume_covers_several_streams_at_once(nats_url: str, js: JetStreamContext) -> None:
    sym, tag = _symbol(), _symbol()
    channels = [f"market.price.{sym}", "news"]
    async with gateway(nats_url) as url:
        async with await open_stream(url) as ws:
            await subscribe(ws, *channels)
            await publish(js, tick(sym, 1.0))
            await publish(js, article(tag, 0))
            got = await recv_until(ws, lambda f: is_data(f) and f["data"].get("id") == f"{tag}-0")
            last = {f["seq"].split(":")[0]: f["seq"] for f in got if is_data(f)}
        prices = [await publish(js, tick(sym, 2.0 + i)) for i in range(3)]
        for i in range(1, 4):
            await publish(js, article(tag, i))
        async with await open_stream(url) as ws:
            await subscribe(ws, *channels, resume=list(last.values()))
            resumed: set[str] = set()

            def both_resumed(frame: dict[str, Any]) -> bool:
                if frame.get("type") == "resumed":
                    resumed.add(frame["stream"])
                return resumed == {"MARKET", "NEWS"}

            frames = await recv_until(ws, both_resumed)
        assert all(f["complete"] for f in frames if f.get("type") == "resumed")
        data = [f for f in frames if is_data(f)]
        assert [seq_of(f) for f in data if f["channel"].startswith("market.")] == prices
        mine = [f["data"]["id"] for f in data if f["data"].get("id", "").startswith(tag)]
        assert mine == [f"{tag}-{i}" for i in range(1, 4)]
        assert not any(f.get("snapshot") for f in data)


async def test_resume_beyond_the_bound_says_so_and_sends_the_latest_value(
    nats_url: str, js: JetStreamContext
) -> None:
    sym = _symbol()
    channel = f"market.price.{sym}"
    async with gateway(nats_url, resume_max_messages=3) as url:
        async with await open_stream(url) as ws:
            await subscribe(ws, channel)
            first = await publish(js, tick(sym, 1.0))
            await recv_until(ws, lambda f: is_data(f) and seq_of(f) == first)
        missed = [await publish(js, tick(sym, 2.0 + i)) for i in range(5)]
        async with await open_stream(url) as ws:
            await subscribe(ws, channel, resume=[f"MARKET:{first}"])
            frames = await recv_until(ws, is_data)
        resumed = next(f for f in frames if f.get("type") == "resumed")
        assert resumed["complete"] is False
        assert resumed["reason"] == "too_many"
        assert resumed["missed"] >= 5
        assert frames[-1]["snapshot"] is True
        assert seq_of(frames[-1]) == missed[-1]


# --- /ws: backpressure


async def _slow_connection(url: str) -> ClientConnection:
    """A client that reads nothing until told: tiny receive buffer, tiny frame queue, and no
    permessage-deflate (which would squeeze megabytes of these frames into the buffers)."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    ws = await connect(f"{url}/ws", sock=sock, open_timeout=WAIT, max_queue=2, compression=None)
    assert (await recv(ws))["type"] == "welcome"
    return ws


async def _publish_many(js: JetStreamContext, events: list[Event]) -> list[int]:
    return [await publish(js, event) for event in events]


async def test_slow_client_gets_prices_conflated_while_a_fast_one_gets_all(
    nats_url: str, js: JetStreamContext
) -> None:
    a, b = _symbol(), _symbol()
    async with gateway(nats_url, queue_size=16, slow_client_grace_s=30) as url:
        fast = await open_stream(url)
        slow = await _slow_connection(url)
        await subscribe(fast, "market.price.*")
        await subscribe(slow, "market.price.*")
        events: list[Event] = [tick(a if i % 2 else b, 1.0 + i, pad=40) for i in range(1500)]
        seqs = await _publish_many(js, events)
        fast_frames = await recv_until(fast, lambda f: is_data(f) and seq_of(f) == seqs[-1])
        assert [seq_of(f) for f in fast_frames if is_data(f) and seq_of(f) >= seqs[0]] == seqs

        slow_frames = await recv_until(slow, lambda f: is_data(f) and seq_of(f) == seqs[-1])
        got = [seq_of(f) for f in slow_frames if is_data(f) and seq_of(f) >= seqs[0]]
        assert len(got) < len(seqs)  # conflated: fewer frames, never out of order
        assert got == sorted(got)
        assert seqs[-2] in got  # and the latest price of each symbol arrived
        assert not [f for f in slow_frames if f.get("type") == "dropped"]
        await fast.close()
        await slow.close()


async def test_other_channels_drop_oldest_and_tell_how_many(
    nats_url: str, js: JetStreamContext
) -> None:
    tag = _symbol()
    async with gateway(nats_url, queue_size=8, slow_client_grace_s=30) as url:
        slow = await _slow_connection(url)
        await subscribe(slow, "news")
        ids = [f"{tag}-{i}" for i in range(400)]
        await _publish_many(js, [article(tag, i, size=2000) for i in range(400)])
        frames = await recv_until(slow, lambda f: is_data(f) and f["data"]["id"] == ids[-1])
        received = [f["data"]["id"] for f in frames if is_data(f)]
        dropped = sum(f["count"] for f in frames if f.get("type") == "dropped")
        assert dropped > 0
        assert received == [i for i in ids if i in set(received)]  # oldest went, order kept
        assert len(received) + dropped == len(ids)
        assert all(
            f["channels"] == {"news": f["count"]} for f in frames if f.get("type") == "dropped"
        )
        await slow.close()


async def test_too_slow_for_too_long_is_closed_4000_while_others_keep_receiving(
    nats_url: str, js: JetStreamContext
) -> None:
    sym = _symbol()
    async with gateway(nats_url, queue_size=8, slow_client_grace_s=0.5) as url:
        fast = await open_stream(url)
        slow = await _slow_connection(url)
        await subscribe(fast, "market.price.*")
        await subscribe(slow, "market.price.*")
        seqs = await _publish_many(js, [tick(sym, 1.0 + i, pad=40) for i in range(1500)])
        await recv_until(fast, lambda f: is_data(f) and seq_of(f) == seqs[-1])
        await asyncio.sleep(1.0)  # past the grace: the slow one is being closed
        later = await _publish_many(js, [tick(sym, 5000.0 + i) for i in range(20)])
        frames = await recv_until(fast, lambda f: is_data(f) and seq_of(f) == later[-1])
        assert [seq_of(f) for f in frames if is_data(f)] == later
        with pytest.raises(ConnectionClosed) as closed:
            await recv_until(slow, lambda f: False)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4000
        assert "slow consumer" in closed.value.rcvd.reason
        await fast.close()


# --- /ws: limits, heartbeats, bad input


async def test_bad_messages_get_error_frames_and_the_connection_lives_on(nats_url: str) -> None:
    async with gateway(nats_url, max_subscriptions=2) as url, await open_stream(url) as ws:
        cases = {
            "not json": "bad_request",
            "[1, 2]": "bad_request",
            '{"channels": ["news"]}': "bad_request",
            '{"action": "dance"}': "unknown_action",
            '{"action": "subscribe", "service": "market_data"}': "bad_request",
            '{"action": "subscribe", "channels": ["market..btc"]}': "invalid_channel",
            '{"action": "subscribe", "channels": "news", "resume": "MARKET"}': "invalid_resume",
            '{"action": "subscribe", "channels": ["news"], "resume": "NOPE:1"}': "invalid_resume",
            '{"action": "subscribe", "channels": ["a", "b", "c"]}': "too_many_subscriptions",
            '{"action": "ping", "service": "x"}': None,
            '{"action": "get_status", "service": "market_data"}': "wrong_endpoint",
            "\u0000\ud7ff": "bad_request",
            "[" * 20000 + "]" * 20000: "bad_request",
            '{"action": "subscribe", "channels": [' + "1" * 5000 + "]}": "bad_request",
        }
        for text, code in cases.items():
            await ws.send(text)
            reply = await recv(ws)
            if code is None:
                assert reply["type"] == "pong"
            else:
                assert reply["type"] == "error", text[:80]
                assert reply["code"] == code, text[:80]
                assert reply["message"]
        await subscribe(ws, "alert.*", "news")
        await ws.send('{"action": "subscribe", "channels": ["chain.gas.*"]}')
        assert (await recv(ws))["code"] == "too_many_subscriptions"


async def test_oversized_message_closes_with_1009(nats_url: str) -> None:
    async with gateway(nats_url, max_message_bytes=1024) as url, await open_stream(url) as ws:
        await ws.send(json.dumps({"action": "ping", "pad": "x" * 2000}))
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_connections_per_address_are_limited_with_1013(nats_url: str) -> None:
    async with gateway(nats_url, max_connections_per_ip=2) as url:
        one, two = await open_stream(url), await open_stream(url)
        three = await connect(f"{url}/ws", open_timeout=WAIT)
        with pytest.raises(ConnectionClosed) as closed:
            await recv(three)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        await one.close()
        four = await open_stream(url)  # a slot is free again
        for ws in (two, four):
            await ws.close()


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
async def test_origin_outside_the_allow_list_is_refused(
    nats_url: str, server: Literal["uvicorn", "granian"]
) -> None:
    async with gateway(nats_url, server=server, allowed_origins=("https://app.example",)) as url:
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{url}/ws", origin="https://evil.example", open_timeout=WAIT)
        assert refused.value.response.status_code == 403
        ok = await open_stream(url, origin="https://app.example")
        await ok.close()


async def test_heartbeat_pings_and_silent_clients_are_closed_4002(nats_url: str) -> None:
    config = {"heartbeat_interval_s": 0.2, "heartbeat_timeout_s": 0.4}
    async with gateway(nats_url, **config) as url, await open_stream(url) as ws:
        await ws.send('{"action": "ping"}')
        assert (await recv(ws))["type"] == "pong"
        for _ in range(3):  # a client that answers stays connected
            assert (await recv(ws))["type"] == "ping"
            await ws.send('{"action": "pong"}')
        with pytest.raises(ConnectionClosed) as closed:
            await _read_forever(ws)  # now silent
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4002


async def _read_forever(ws: ClientConnection) -> None:
    while True:
        await recv(ws)


# --- /ws/master: the old hub's protocol


async def open_master(url: str, path: str = "/ws/master") -> ClientConnection:
    return await connect(f"{url}{path}", open_timeout=WAIT)


async def test_master_greets_and_answers_like_the_old_hub(
    nats_url: str, js: JetStreamContext
) -> None:
    sym = _symbol()
    await publish(js, tick(sym, 42.0))
    async with gateway(nats_url) as url, await open_master(url) as ws:
        hello = await recv(ws)
        assert hello["type"] == "connection_established"
        assert hello["client_id"].startswith("client_")
        assert len(hello["available_services"]) == 14
        welcome = await recv(ws)
        assert (welcome["service"], welcome["type"]) == ("system", "welcome")
        assert "market_data" in welcome["data"]["available_services"]["data_collection"]

        await ws.send('{"action": "ping", "data": {"n": 1}}')
        pong = await recv(ws)
        assert (pong["type"], pong["data"]) == ("pong", {"n": 1})
        assert pong["timestamp"].endswith("Z")

        await ws.send('{"action": "subscribe", "service": "nope"}')
        error = await recv(ws)
        assert error["type"] == "error"
        assert error["data"]["message"] == "Invalid service: nope"
        await ws.send('{"action": "fly"}')
        error = await recv(ws)
        assert error["data"]["message"] == "Unknown action: fly"
        assert error["data"]["supported_actions"] == [
            "subscribe",
            "unsubscribe",
            "get_status",
            "ping",
        ]
        for broken in ("{broken", "[1]", "[" * 20000 + "]" * 20000):
            await ws.send(broken)
            assert (await recv(ws))["type"] == "error"  # not a dropped connection

        await ws.send('{"action": "subscribe", "service": "market_data"}')
        confirmed = await recv(ws)
        assert confirmed["type"] == "subscription_confirmed"
        assert confirmed["data"] == {"service": "market_data", "subscriptions": ["market_data"]}
        await publish(js, tick(sym, 43.0))  # LiveState has it after the feed delivered it
        update = await recv(ws)
        assert (update["service"], update["type"]) == ("market_data", "update")
        assert update["data"]["source"] == "consensus"

        await ws.send('{"action": "get_status"}')
        status = (await recv_until(ws, lambda f: f.get("type") == "status"))[-1]
        assert status["data"]["client_id"] == hello["client_id"]
        assert status["data"]["subscriptions"] == ["market_data"]
        assert status["data"]["total_clients"] == 1

        await ws.send('{"action": "unsubscribe", "service": "market_data"}')
        gone = (await recv_until(ws, lambda f: f.get("type") == "unsubscription_confirmed"))[-1]
        assert gone["data"]["subscriptions"] == []


async def test_master_market_data_updates_with_new_consensus_prices(
    nats_url: str, js: JetStreamContext
) -> None:
    sym = _symbol()
    intervals = {"market_data": 0.1, "sentiment": 0.1}
    async with gateway(nats_url, master_intervals_s=intervals) as url:
        async with await open_master(url, "/ws/market_data") as ws:
            assert (await recv(ws))["type"] == "connection_established"
            await publish(js, tick(sym, 100.0, source="binance"))  # raw ticks are not shown
            await publish(js, tick(sym, 101.5))
            update = (
                await recv_until(ws, lambda f: sym.upper() in f.get("data", {}).get("prices", {}))
            )[-1]
            assert update["data"]["prices"][sym.upper()] == 101.5
            assert update["data"]["volumes"][sym.upper()] == 1000.0
            assert sym.upper() not in update["data"]["price_changes"]  # unknown: left out
        async with await open_master(url, "/ws/all") as ws:
            assert (await recv(ws))["type"] == "connection_established"
            auto = await recv(ws)
            assert (auto["type"], auto["data"]["subscription"]) == ("auto_subscribed", "all")
            now = _now()
            fng = SentimentIndex(
                source="alternative_me",
                observed_at=now,
                received_at=now,
                name="fear_greed",
                value=23,
                classification="Extreme Fear",
            )
            await publish(js, fng)
            sentiment = (await recv_until(ws, lambda f: f.get("service") == "sentiment"))[-1]
            assert sentiment["data"]["sentiment_score"] == 23
            assert sentiment["data"]["overall_sentiment"] == "Extreme Fear"
            assert sentiment["data"]["sentiment_by_source"]["Alternative.me"] == {
                "value": 23,
                "classification": "Extreme Fear",
            }


async def test_master_news_lists_recent_articles(nats_url: str, js: JetStreamContext) -> None:
    tag = _symbol()
    for i in range(3):
        await publish(js, article(tag, i, size=300))
    async with gateway(nats_url) as url, await open_master(url) as ws:
        await recv(ws)
        await recv(ws)
        await ws.send('{"action": "subscribe", "service": "news"}')
        assert (await recv(ws))["type"] == "subscription_confirmed"
        news = await recv(ws)  # the snapshot right away, read back from JetStream at start
        assert news["service"] == "news"
        items = news["data"]["articles"]
        assert [a["id"] for a in items[:3]] == [f"{tag}-2", f"{tag}-1", f"{tag}-0"]
        first = items[0]
        assert first["description"].endswith("...")
        assert len(first["description"]) == 203
        assert first["sentiment"] is None  # not scored yet: said, not invented
        assert first["tags"] == ["BTC"]
        assert news["data"]["sources"] == ["rss"]


async def test_the_real_gateway_app_serves_ws_and_ws_master(
    nats_url: str, js: JetStreamContext
) -> None:
    sym = _symbol()
    async with gateway(nats_url, app=gateway_app, server="granian") as url:
        async with await open_stream(url) as ws:
            await subscribe(ws, f"market.price.{sym}")
            seq = await publish(js, tick(sym, 7.0))
            frame = (await recv_until(ws, is_data))[-1]
            assert (frame["seq"], frame["data"]["price"]) == (f"MARKET:{seq}", 7.0)
        async with await open_master(url) as ws:
            assert (await recv(ws))["type"] == "connection_established"
            await ws.send('{"action": "subscribe", "service": "market_data"}')
            frames = await recv_until(ws, lambda f: f.get("service") == "market_data")
            assert frames[-1]["data"]["prices"][sym.upper()] == 7.0
