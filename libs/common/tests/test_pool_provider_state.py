"""Pools skip members that health marks offline in KV provider_state (real NATS, real HTTP)."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import msgspec
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig

from cryptohub.common.events import ProviderState, ProviderStateRecord, encode
from cryptohub.common.providers import (
    KvProviderStates,
    ParseContext,
    PoolMember,
    ProviderClient,
    ProviderPool,
    ProviderSpec,
    Request,
    resolve,
)
from cryptohub.common.replay import ReplayServer


def parse(body: bytes, context: ParseContext) -> float:
    return float(msgspec.json.decode(body)["price"])


def record(provider: str, state: ProviderState) -> bytes:
    return encode(
        ProviderStateRecord(provider=provider, state=state, reason="test", since=datetime.now(UTC))
    )


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5.0):
        while not condition():  # noqa: ASYNC110 - polls state another task updates
            await asyncio.sleep(0.02)


async def test_offline_member_is_skipped_until_health_lets_it_back(js: JetStreamContext) -> None:
    kv = await js.create_key_value(KeyValueConfig(bucket=f"ps_{uuid.uuid4().hex[:8]}"))
    async with ReplayServer() as replay, httpx.AsyncClient() as http:
        replay.add_route("alpha", "GET", "/p", b'{"price": 1.0}')
        replay.add_route("beta", "GET", "/p", b'{"price": 2.0}')
        members: list[PoolMember[None, float]] = []
        for priority, name in enumerate(["alpha", "beta"]):
            spec = ProviderSpec(name=name, category="market", base_url=replay.base_url(name))
            client = ProviderClient(resolve(spec, {}), http)
            members.append(
                PoolMember(client, lambda _: Request("p", "/p"), parse, priority=priority)
            )
        states = KvProviderStates(kv)
        await kv.put("alpha", record("alpha", "offline"))
        await states.start()
        try:
            pool = ProviderPool("prices", members, states=states)
            assert states.state_of("alpha") == "offline"
            result = await pool.call(None)
            assert (result.provider, result.value) == ("beta", 2.0)
            assert replay.request_count("alpha") == 0

            await kv.put("alpha", record("alpha", "half_open"))
            await wait_for(lambda: states.state_of("alpha") == "half_open")
            assert (await pool.call(None)).provider == "alpha"

            await kv.put("alpha", b"not json")
            await kv.delete("beta")
            await asyncio.sleep(0.1)
            assert states.state_of("alpha") == "half_open", (
                "an unreadable entry must not erase state"
            )
        finally:
            await states.stop()
            await js.delete_key_value(kv._name)
