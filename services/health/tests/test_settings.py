"""Settings from the environment's text forms: comma lists and provider=value pairs."""

import pytest
from pydantic import ValidationError

from cryptohub.health.settings import Settings


def test_lists_and_pairs_read_from_plain_text() -> None:
    s = Settings.model_validate(
        {
            "health_expected_providers": "coingecko, binance",
            "health_categories": "coingecko=market,etherscan=chain",
            "health_slow_call_ms_by_provider": "binance=500",
        }
    )
    assert s.health_expected_providers == ("coingecko", "binance")
    assert s.health_categories == {"coingecko": "market", "etherscan": "chain"}
    assert s.health_slow_call_ms_by_provider == {"binance": 500.0}
    config = s.monitor_config()
    assert config.categories["etherscan"] == "chain"
    assert config.thresholds.cooldown.total_seconds() == s.health_cooldown_s


def test_json_forms_are_accepted_too() -> None:
    s = Settings.model_validate(
        {"health_expected_providers": '["kraken"]', "health_categories": '{"kraken": "market"}'}
    )
    assert s.health_expected_providers == ("kraken",)
    assert s.health_categories == {"kraken": "market"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("health_categories", "coingecko"),
        ("health_categories", "CoinGecko=market"),
        ("health_expected_providers", "bad name"),
        ("health_offline_error_rate", "1.5"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.model_validate({field: value})
