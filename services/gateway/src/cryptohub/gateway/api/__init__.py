"""The HTTP API: `/api/v1` (ours), `/api` (the old hub's routes), and the operational endpoints."""

from typing import Any, Final

from litestar import Router
from litestar.datastructures import State
from litestar.types import ControllerRouterHandler, Guard

from cryptohub.gateway.api import (
    alerts,
    chain,
    market,
    news,
    ops,
    prices,
    providers,
    sentiment,
    status,
)
from cryptohub.gateway.api.legacy import legacy_router
from cryptohub.gateway.api.security import KeyRing, require_read_key
from cryptohub.gateway.runtime import Runtime

__all__ = ["DESCRIPTION", "app_state", "route_handlers"]

DESCRIPTION: Final = """\
CryptoHub's REST API. Every data response says how old its data is (`as_of`, `age_s`); pass
`max_age=<seconds>` to get a 503 instead of data older than that. Nothing is ever estimated:
missing data is an empty list or a 404. Errors are `application/problem+json`. Lists are paged
with `limit` and the `next_cursor` of the previous page. `/api/*` (without `v1`) serves the old
hub's routes with their old shapes.
"""


def route_handlers(*, read_keys: bool) -> list[ControllerRouterHandler]:
    """Every HTTP route; the read API is guarded only when read keys are configured."""
    guards: list[Guard] = [require_read_key] if read_keys else []
    v1 = Router(
        path="/api/v1",
        route_handlers=[
            prices.list_prices,
            prices.get_price,
            market.get_ohlcv,
            market.get_global,
            market.list_tvl,
            chain.get_gas,
            chain.list_blocks,
            chain.list_whales,
            news.list_news,
            sentiment.list_indexes,
            sentiment.get_asset_sentiment,
            providers.list_providers,
            providers.get_provider,
            alerts.list_alerts,
            alerts.ack_alert,
            status.get_status,
        ],
        guards=guards,
        tags=["v1"],
    )
    return [v1, legacy_router(guards), ops.healthz, ops.readyz, ops.metrics, ops.docs]


def app_state(runtime: Runtime, hub: Any) -> State:
    settings = runtime.settings
    rings = (KeyRing(settings.read_api_keys), KeyRing(settings.admin_api_keys))
    return State({"runtime": runtime, "ws_hub": hub, "key_rings": rings})
