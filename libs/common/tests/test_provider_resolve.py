"""`resolve`: where a provider's calls go, live and in replay mode (which never goes online)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from cryptohub.common.events import ProviderAttempt
from cryptohub.common.providers import ProviderClient, ProviderError, ProviderSpec, Request, resolve
from cryptohub.common.providers.declaration import ReplayConfigError
from cryptohub.common.replay import ReplayServer

DECRYPT = ProviderSpec(name="decrypt", category="news", base_url="https://decrypt.co")
THE_BLOCK = ProviderSpec(name="the_block", category="news", base_url="https://www.theblock.co")
REPLAY_URL = "http://127.0.0.1:8123"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


@pytest.mark.parametrize("flag", ["", "0", "false", "No", "off"])
def test_live_mode_keeps_the_providers_own_base_url(flag: str) -> None:
    env = {"CRYPTOHUB_REPLAY": flag, "CRYPTOHUB_REPLAY_URL": REPLAY_URL}
    assert resolve(DECRYPT, env).base_url == "https://decrypt.co"
    assert resolve(DECRYPT, {}).base_url == "https://decrypt.co"


@pytest.mark.parametrize("flag", ["1", "true", "TRUE", "yes", "on"])
def test_replay_mode_sends_an_unrecorded_provider_to_the_replay_server(flag: str) -> None:
    env = {"CRYPTOHUB_REPLAY": flag, "CRYPTOHUB_REPLAY_URL": REPLAY_URL + "/"}
    assert resolve(DECRYPT, env).base_url == f"{REPLAY_URL}/decrypt"
    assert resolve(THE_BLOCK, env).base_url == f"{REPLAY_URL}/the_block"


def test_a_providers_own_base_url_wins_in_replay_mode() -> None:
    env = {
        "CRYPTOHUB_REPLAY": "1",
        "CRYPTOHUB_REPLAY_URL": REPLAY_URL,
        "CRYPTOHUB_DECRYPT_BASE_URL": "http://127.0.0.1:9/mirror/",
    }
    assert resolve(DECRYPT, env).base_url == "http://127.0.0.1:9/mirror"
    assert resolve(THE_BLOCK, env).base_url == f"{REPLAY_URL}/the_block"


@pytest.mark.parametrize("replay_url", [None, "", "  "])
def test_replay_mode_without_a_replay_url_is_refused_not_sent_online(
    replay_url: str | None,
) -> None:
    env = {"CRYPTOHUB_REPLAY": "1"}
    if replay_url is not None:
        env["CRYPTOHUB_REPLAY_URL"] = replay_url
    with pytest.raises(ReplayConfigError, match=r"CRYPTOHUB_REPLAY_URL is not") as raised:
        resolve(THE_BLOCK, env)
    assert "the_block" in str(raised.value)
    # Its own base URL needs no replay URL.
    own = {"CRYPTOHUB_REPLAY": "1", "CRYPTOHUB_THE_BLOCK_BASE_URL": "http://127.0.0.1:9"}
    assert resolve(THE_BLOCK, own).base_url == "http://127.0.0.1:9"


def test_a_replay_flag_that_is_no_boolean_is_refused() -> None:
    env = {"CRYPTOHUB_REPLAY": "maybe", "CRYPTOHUB_REPLAY_URL": REPLAY_URL}
    with pytest.raises(ReplayConfigError, match=r"CRYPTOHUB_REPLAY='maybe' is not a boolean"):
        resolve(DECRYPT, env)


async def test_an_unrecorded_provider_in_replay_mode_gets_the_replay_servers_404(
    replay_server: ReplayServer, http: httpx.AsyncClient
) -> None:
    # The repo's recordings hold nothing for Decrypt: a failed attempt, never decrypt.co.
    env = {"CRYPTOHUB_REPLAY": "1", "CRYPTOHUB_REPLAY_URL": replay_server.url}
    attempts: list[ProviderAttempt] = []
    client = ProviderClient(resolve(DECRYPT, env), http, attempts=attempts.append, source="test")

    with pytest.raises(ProviderError) as raised:
        await client.fetch(Request(endpoint="feed", path="/feed"), lambda body, ctx: body)

    assert (raised.value.kind, raised.value.status) == ("http_4xx", 404)
    assert [(r.provider, r.path) for r in replay_server.requests] == [("decrypt", "/feed")]
    assert [(a.provider, a.ok, a.status) for a in attempts] == [("decrypt", False, 404)]
