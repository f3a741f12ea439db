"""Pytest fixture: the repo's recorded provider bodies served on 127.0.0.1, faults on demand."""

from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import pytest
import pytest_asyncio

from cryptohub.common.replay import ReplayServer, RouteTable, load_routes
from cryptohub.common.replay.routes import ROUTES_FILE

__all__ = ["find_provider_fixtures", "replay_server"]

PROVIDER_FIXTURES = Path("fixtures") / "providers"


def find_provider_fixtures(start: Path) -> Path:
    """The nearest `fixtures/providers` (holding routes.json) at or above `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PROVIDER_FIXTURES
        if (candidate / ROUTES_FILE).is_file():
            return candidate
    raise FileNotFoundError(f"no {PROVIDER_FIXTURES / ROUTES_FILE} at or above {start}")


@cache
def _recorded_routes(folder: Path) -> RouteTable:
    return load_routes(folder)  # read once per session; every server works on its own copy


@pytest_asyncio.fixture
async def replay_server(request: pytest.FixtureRequest) -> AsyncIterator[ReplayServer]:
    """A started `ReplayServer` with every recorded route; stopped (hung calls dropped) after.

    Point a provider at it with `replay_server.base_url("coingecko")`.
    """
    routes = _recorded_routes(find_provider_fixtures(request.config.rootpath))
    async with ReplayServer(routes) as server:
        yield server
