"""Every provider this collector may call, declared, resolved against the environment, and given
its resilient client. A provider without its required key is left out and says so once."""

import dataclasses
import logging
from collections.abc import Mapping
from typing import Final

import httpx

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
from cryptohub.common.providers import (
    ProviderClient,
    ProviderSpec,
    RateLimits,
    ResolvedProvider,
    resolve,
)
from cryptohub.common.providers.client import AttemptSink

log = logging.getLogger(__name__)

# A second host of a provider follows the provider's base-URL override when it has none of its
# own (the replay server serves both under the provider's folder).
SECOND_HOSTS: Final = {
    cryptocompare.DATA_NAME: cryptocompare.NAME,
    defillama.COINS_NAME: defillama.NAME,
}


def coingecko_plan(settings: Settings, environ: Mapping[str, str]) -> coingecko.Plan:
    """`auto`: Demo when a key is set, the public API otherwise."""
    if settings.coingecko_plan != "auto":
        return settings.coingecko_plan
    return "demo" if environ.get(coingecko.KEY_ENV, "").strip() else "public"


def declarations(settings: Settings, environ: Mapping[str, str]) -> list[ProviderSpec]:
    specs = [
        coingecko.spec(coingecko_plan(settings, environ)),
        binance.SPEC,
        kraken.SPEC,
        cryptocompare.SPEC,
        cryptocompare.DATA_SPEC,
        coinmarketcap.SPEC,
        coinpaprika.SPEC,
        coincap.SPEC,
        defillama.SPEC,
        defillama.COINS_SPEC,
    ]
    chosen = []
    for spec in specs:
        if spec.name in settings.disabled_providers:
            log.info("%s is disabled by configuration", spec.name)
            continue
        override = settings.provider_limits.get(spec.name)
        if override is not None:
            limits = RateLimits(
                per_second=override.per_second,
                per_minute=override.per_minute,
                monthly_credits=override.monthly_credits,
            )
            spec = dataclasses.replace(spec, limits=limits)
        chosen.append(spec)
    return chosen


def resolve_all(specs: list[ProviderSpec], environ: Mapping[str, str]) -> list[ResolvedProvider]:
    by_name = {s.name: s for s in specs}
    resolved = []
    for spec in specs:
        env = dict(environ)
        parent = SECOND_HOSTS.get(spec.name)
        if parent is not None and spec.base_url_env_var not in env:
            parent_spec = by_name.get(parent)
            if parent_spec is not None and parent_spec.base_url_env_var in env:
                env[spec.base_url_env_var] = env[parent_spec.base_url_env_var]
        resolved.append(resolve(spec, env))
    return resolved


def make_clients(
    settings: Settings,
    environ: Mapping[str, str],
    http: httpx.AsyncClient,
    attempts: AttemptSink | None,
) -> dict[str, ProviderClient]:
    """A client per enabled provider; disabled ones (a required key missing) are said once."""
    clients = {}
    for provider in resolve_all(declarations(settings, environ), environ):
        if not provider.enabled:
            log.info("%s", provider.disabled_reason)
            continue
        clients[provider.spec.name] = ProviderClient(
            provider, http, attempts=attempts, source=settings.service
        )
    return clients
