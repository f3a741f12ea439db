"""Settings: read once, typed, refusing values that could never be published."""

import pytest
from pydantic import ValidationError

from cryptohub.collector_market.clients import coingecko_plan, declarations, resolve_all
from cryptohub.collector_market.settings import LimitOverride, Settings
from cryptohub.common.providers import RateLimits


def test_defaults_describe_the_documented_service() -> None:
    settings = Settings(nats_url="nats://127.0.0.1:1")
    assert settings.service == "collector-market"
    assert (settings.watch_top_n, settings.price_interval_s) == (100, 30.0)
    assert settings.candle_intervals == ["1m", "5m", "15m", "1h", "4h", "1d"]


def test_a_symbol_that_cannot_be_a_subject_is_refused() -> None:
    with pytest.raises(ValidationError, match="not lower-case asset symbols"):
        Settings(candle_symbols=["btc", "b.t.c"])
    with pytest.raises(ValidationError, match="protocol slugs"):
        Settings(tvl_protocols=["uniswap v3"])


def test_coingecko_plan_follows_the_key_unless_chosen() -> None:
    settings = Settings()
    assert coingecko_plan(settings, {}) == "public"
    assert coingecko_plan(settings, {"COINGECKO_API_KEY": "CG-demo-key-1"}) == "demo"
    assert coingecko_plan(Settings(coingecko_plan="pro"), {}) == "pro"


def test_limits_can_be_overridden_and_providers_disabled() -> None:
    settings = Settings(
        provider_limits={"coinmarketcap": LimitOverride(per_minute=60, monthly_credits=40_000)},
        disabled_providers=["kraken"],
    )
    specs = {s.name: s for s in declarations(settings, {})}
    assert "kraken" not in specs
    assert specs["coinmarketcap"].limits == RateLimits(per_minute=60, monthly_credits=40_000)


def test_a_second_host_follows_its_providers_override() -> None:
    settings = Settings()
    env = {
        "CRYPTOHUB_CRYPTOCOMPARE_BASE_URL": "http://127.0.0.1:9/cryptocompare",
        "CRYPTOHUB_DEFILLAMA_COINS_BASE_URL": "http://127.0.0.1:9/own",
    }
    resolved = {r.spec.name: r for r in resolve_all(declarations(settings, env), env)}
    assert resolved["cryptocompare_data"].base_url == "http://127.0.0.1:9/cryptocompare"
    assert resolved["defillama_coins"].base_url == "http://127.0.0.1:9/own"
    assert resolved["defillama"].base_url == "https://api.llama.fi"
    assert not resolved["coinmarketcap"].enabled  # no key: disabled, said once at start
