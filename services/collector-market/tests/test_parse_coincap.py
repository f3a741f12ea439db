"""CoinCap parsers on the recorded assets body and bad bodies."""

from collections.abc import Callable

import pytest

from cryptohub.collector_market.assets import AssetBook
from cryptohub.collector_market.providers import coincap
from cryptohub.common.providers import InvalidDataError, ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]


def test_recorded_assets_give_usd_ticks_observed_when_received(
    body: Body, ctx: Ctx, majors: AssetBook
) -> None:
    context = ctx("coincap")
    ticks = coincap.parse_assets(
        body("coincap/v2_assets_ids_bitcoin_ethereum.json"), context, book=majors
    )
    by_symbol = {t.symbol: t for t in ticks}
    btc = by_symbol["btc"]
    assert btc.price == 31903.5073844198542218
    assert btc.market_cap == 593152178729.6360702417926824
    assert btc.volume_24h == 10472743298.8262043268544904
    assert btc.change_24h_pct == -2.5167065914519580
    assert by_symbol["eth"].price == 1233.8004800756319780
    # `timestamp` is when CoinCap answered, not when a price changed.
    assert all(t.observed_at == context.received_at for t in ticks)


def test_recorded_assets_give_coincap_ranking(body: Body, ctx: Ctx) -> None:
    listed = coincap.parse_listing(
        body("coincap/v2_assets_ids_bitcoin_ethereum.json"), ctx("coincap")
    )
    assert [(c.provider_id, c.symbol, c.rank) for c in listed] == [
        ("bitcoin", "BTC", 1),
        ("ethereum", "ETH", 2),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        b'"priceUsd":"not a number"',
        b'"priceUsd":"0"',
        b'"priceUsd":"-5"',
        b'"priceUsd":31903.5',
        b'"priceUsd":"Infinity"',
    ],
)
def test_bad_prices_are_invalid(bad: bytes, body: Body, ctx: Ctx, majors: AssetBook) -> None:
    recorded = body("coincap/v2_assets_ids_bitcoin_ethereum.json")
    good = b'"priceUsd":"31903.5073844198542218"'
    assert good in recorded
    with pytest.raises(InvalidDataError):
        coincap.parse_assets(recorded.replace(good, bad), ctx("coincap"), book=majors)


def test_empty_data_and_error_envelope_are_invalid(ctx: Ctx, majors: AssetBook) -> None:
    with pytest.raises(InvalidDataError):
        coincap.parse_assets(
            b'{"data": [], "timestamp": 1611449744359}', ctx("coincap"), book=majors
        )
    with pytest.raises(InvalidDataError, match="unauthorized"):
        coincap.parse_assets(b'{"error": "unauthorized"}', ctx("coincap"), book=majors)
