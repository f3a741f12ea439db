"""The old hub's `/ws/master`: its services, replies and `{service, type, data}` updates."""

import itertools
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
import nats.errors
from nats.js import JetStreamContext

from cryptohub.common import subjects
from cryptohub.common.streams import CHAIN, NEWS, SENTIMENT, StreamSpec
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.ws.client import Client
from cryptohub.gateway.ws.frames import rfc3339
from cryptohub.gateway.ws.history import read_history
from cryptohub.gateway.ws.master_data import DATA_SERVICES, MasterData, service_of
from cryptohub.gateway.ws.outbox import Entry

__all__ = ["ALIASES", "SERVICES", "MasterRelay", "MasterSession"]

log = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

_GROUPS: Final = {
    "data_collection": [
        "market_data",
        "explorers",
        "news",
        "sentiment",
        "whale_tracking",
        "rpc_nodes",
        "onchain",
    ],
    "monitoring": ["health_checker", "pool_manager", "scheduler"],
    "integration": ["huggingface", "persistence"],
    "system": ["system", "all"],
}
SERVICES: Final = tuple(s for group in _GROUPS.values() for s in group)
_ACTIONS: Final = ["subscribe", "unsubscribe", "get_status", "ping"]
# Old paths: (services subscribed on connect, extra first message). None: the master welcome.
ALIASES: Final[Mapping[str, tuple[tuple[str, ...], str | None]]] = {
    "/ws/master": ((), "welcome"),
    "/ws/all": (("all",), "auto_subscribed"),
    "/ws/market_data": (("market_data",), None),
    "/ws/news": (("news",), None),
    "/ws/sentiment": (("sentiment",), None),
    "/ws/whale_tracking": (("whale_tracking",), None),
    "/ws/health": (("health_checker",), None),
    "/ws/pool_status": (("pool_manager",), None),
    "/ws/scheduler_status": (("scheduler",), None),
    "/ws/huggingface": (("huggingface",), None),
    "/ws/ai": (("huggingface",), None),
    "/ws/persistence": (("persistence",), None),
    "/ws/data": ((), None),
    "/ws/monitoring": ((), None),
    "/ws/integration": ((), None),
}
_USAGE: Final = {
    "subscribe": {"action": "subscribe", "service": "market_data"},
    "unsubscribe": {"action": "unsubscribe", "service": "market_data"},
    "get_status": {"action": "get_status"},
    "ping": {"action": "ping", "data": {}},
}
_client_numbers = itertools.count(1)
_WARM_WINDOW: Final = 5000  # stream messages looked back through for sentiment and whales


def _now() -> str:
    return rfc3339(datetime.now(UTC))


def envelope(service: str, kind: str, data: Any) -> str:
    return _encode({"service": service, "type": kind, "data": data, "timestamp": _now()}).decode()


class MasterSession(Client):
    """One old-hub client: the services it follows and its replies."""

    def __init__(self, relay: "MasterRelay", socket: Any, *, address: str, capacity: int) -> None:
        super().__init__(socket, endpoint="master", address=address, capacity=capacity)
        self.relay = relay
        self.client_id = f"client_{next(_client_numbers)}_{int(time.time())}"
        self.services: set[str] = set()
        self.last_activity = datetime.now(UTC)

    def greet(self, path: str) -> None:
        services, extra = ALIASES.get(path, ((), None))
        self.reply(
            _encode(
                {
                    "type": "connection_established",
                    "client_id": self.client_id,
                    "timestamp": _now(),
                    "available_services": list(SERVICES),
                }
            ).decode()
        )
        if extra == "welcome":
            self.reply(
                envelope(
                    "system",
                    "welcome",
                    {
                        "message": "Connected to master WebSocket endpoint",
                        "available_services": _GROUPS,
                        "usage": _USAGE,
                    },
                )
            )
        elif extra == "auto_subscribed":
            self.reply(
                envelope(
                    "system",
                    "auto_subscribed",
                    {
                        "message": "Automatically subscribed to all services",
                        "subscription": "all",
                    },
                )
            )
        for service in services:
            self.relay.follow(self, service)

    def handle(self, text: str | bytes) -> None:
        """Answer one client frame the way the old hub did (bad JSON: an error, not a drop)."""
        self.last_activity = datetime.now(UTC)
        try:
            message = _decode(text)
        except (msgspec.DecodeError, RecursionError):
            message = None
        if not isinstance(message, dict):
            self.reply(
                envelope(
                    "system",
                    "error",
                    {"message": "Invalid JSON: a message is one JSON object with an 'action'"},
                )
            )
            return
        action = message.get("action")
        service = message.get("service")
        if action == "subscribe":
            self._subscribe(service)
        elif action == "unsubscribe":
            self._unsubscribe(service)
        elif action == "get_status":
            self.reply(
                envelope(
                    "system",
                    "status",
                    {
                        "client_id": self.client_id,
                        "connected_at": rfc3339(datetime.fromtimestamp(self.connected_at, UTC)),
                        "last_activity": rfc3339(self.last_activity),
                        "subscriptions": sorted(self.services),
                        "total_clients": self.relay.client_count(),
                    },
                )
            )
        elif action == "ping":
            data = message.get("data")
            self.reply(envelope("system", "pong", {} if data is None else data))
        else:
            self.reply(
                envelope(
                    "system",
                    "error",
                    {
                        "message": f"Unknown action: {str(action)[:40]}",
                        "supported_actions": _ACTIONS,
                    },
                )
            )

    def _subscribe(self, service: object) -> None:
        if service is None:
            return  # the old hub did not answer either
        if not isinstance(service, str) or service not in SERVICES:
            self.reply(
                envelope(
                    "system",
                    "error",
                    {
                        "message": f"Invalid service: {str(service)[:40]}",
                        "available_services": list(SERVICES),
                    },
                )
            )
            return
        self.relay.follow(self, service, confirm=True)

    def _unsubscribe(self, service: object) -> None:
        if service is None:
            return
        if not isinstance(service, str) or service not in SERVICES:
            self.reply(
                envelope("system", "error", {"message": f"Invalid service: {str(service)[:40]}"})
            )
            return
        self.relay.unfollow(self, service)
        self.reply(
            envelope(
                "system",
                "unsubscription_confirmed",
                {"service": service, "subscriptions": sorted(self.services)},
            )
        )


class MasterRelay:
    """Who follows which service; sends each service's full snapshot after an event changed it,
    at most once per the old hub's interval, built and encoded once for all its followers.
    A slow follower keeps only the newest snapshot of each service (conflated)."""

    def __init__(self, live: LiveState, *, news_items: int, intervals: Mapping[str, float]) -> None:
        self.data = MasterData(live, news_items=news_items)
        self._intervals = intervals
        self._followers: dict[str, set[MasterSession]] = {}
        self._dirty: set[str] = set()
        self._last_sent: dict[str, float] = {}
        self.sessions: set[MasterSession] = set()

    async def warm(self, js: JetStreamContext, streams: Mapping[str, StreamSpec]) -> None:
        """Read the recent articles, their sentiment and whale transfers back from JetStream."""
        wanted = [
            (NEWS.name, subjects.news_article(), self.data.news_items),
            (SENTIMENT.name, subjects.article_sentiment(), _WARM_WINDOW),
            (CHAIN.name, subjects.all_whales(), _WARM_WINDOW),
        ]
        messages: list[FeedMessage] = []
        for stream, pattern, window in wanted:
            spec = streams.get(stream)
            if spec is None:
                continue
            try:
                info = await js.stream_info(stream)
            except (TimeoutError, nats.errors.Error) as exc:
                log.warning("ws/master: cannot read recent %s: %s", stream, exc)
                continue
            last = int(info.state.last_seq)
            history = await read_history(
                js,
                spec,
                [pattern],
                after=max(int(info.state.first_seq) - 1, last - window, 0),
                upto=last,
                max_messages=window,
                max_age=timedelta(days=3650),
                time_limit=5.0,
            )
            messages.extend(history.messages)
        self.data.warm(messages)
        log.info("ws/master: warmed with %d recent messages", len(messages))

    def client_count(self) -> int:
        return len(self.sessions)

    def follow(self, session: MasterSession, service: str, *, confirm: bool = False) -> None:
        session.services.add(service)
        self._followers.setdefault(service, set()).add(session)
        if confirm:
            session.reply(
                envelope(
                    "system",
                    "subscription_confirmed",
                    {"service": service, "subscriptions": sorted(session.services)},
                )
            )
        # The current snapshot right away instead of after one interval (the old hub's wait).
        wanted = DATA_SERVICES if service == "all" else (service,)
        for name in wanted:
            data = self.data.build(name)
            if data is not None:
                session.offer(Entry(envelope(name, "update", data), key=f"master:{name}"))

    def unfollow(self, session: MasterSession, service: str) -> None:
        session.services.discard(service)
        followers = self._followers.get(service)
        if followers is not None:
            followers.discard(session)

    def forget(self, session: MasterSession) -> None:
        for service in list(session.services):
            self.unfollow(session, service)
        self.sessions.discard(session)

    def on_feed(self, msg: FeedMessage) -> None:
        self.data.remember(msg)
        service = service_of(msg.subject)
        if service is not None:
            self._dirty.add(service)

    def tick(self, now: float) -> None:
        """Send the snapshot of each changed service whose interval has passed."""
        for service in list(self._dirty):
            if now - self._last_sent.get(service, 0.0) < self._intervals.get(service, 5.0):
                continue
            followers = self._followers.get(service, set()) | self._followers.get("all", set())
            self._dirty.discard(service)
            if not followers:
                continue
            data = self.data.build(service)
            if data is None:
                continue
            self._last_sent[service] = now
            entry = Entry(envelope(service, "update", data), key=f"master:{service}")
            for session in followers:
                session.offer(entry)
