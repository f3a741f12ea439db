"""alternative.me Fear & Greed parsing on the recorded body."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cryptohub.collector_news.providers.fear_greed import fng_request, parse_fng
from cryptohub.common.providers import InvalidDataError, ParseContext


def test_recorded_values_oldest_first(
    recorded: Callable[[str], bytes], ctx: Callable[[str], ParseContext]
) -> None:
    batch = parse_fng(recorded("alternative_me/fng_limit2.json"), ctx("alternative_me"))
    assert [(v.observed_at, v.value, v.classification) for v in batch.values] == [
        (datetime(2021, 12, 21, tzinfo=UTC), 27, "Fear"),
        (datetime(2021, 12, 22, tzinfo=UTC), 45, "Fear"),
    ]
    assert {v.name for v in batch.values} == {"fear_greed"}
    assert {v.source for v in batch.values} == {"alternative_me"}
    assert dict(batch.anomalies) == {}


def test_a_bad_entry_is_skipped_and_counted(ctx: Callable[[str], ParseContext]) -> None:
    # Synthetic fault input in the documented shape: one value out of range, one not a number.
    body = b"""{"name": "Fear and Greed Index", "data": [
        {"value": "150", "value_classification": "Greed", "timestamp": "1640217600"},
        {"value": "n/a", "value_classification": "Fear", "timestamp": "1640131200"},
        {"value": "27", "value_classification": "Fear", "timestamp": "1640044800"}],
        "metadata": {"error": null}}"""
    batch = parse_fng(body, ctx("alternative_me"))
    assert [v.value for v in batch.values] == [27]
    assert dict(batch.anomalies) == {"bad_value": 2}


def test_an_error_answer_or_no_usable_value_is_invalid_data(
    ctx: Callable[[str], ParseContext],
) -> None:
    with pytest.raises(InvalidDataError, match="Limit"):
        parse_fng(
            b'{"name": "Fear and Greed Index", "data": [],'
            b' "metadata": {"error": "Limit exceeded"}}',
            ctx("alternative_me"),
        )
    with pytest.raises(InvalidDataError, match="no usable"):
        parse_fng(b'{"data": [], "metadata": {"error": null}}', ctx("alternative_me"))


def test_requests() -> None:
    assert fng_request(1).params == {"limit": 1, "format": "json"}
    assert fng_request(0).endpoint == "fng_history"
