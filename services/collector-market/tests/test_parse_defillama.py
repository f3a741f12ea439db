"""DefiLlama parsers on every recorded DefiLlama body and the documented examples."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cryptohub.collector_market.assets import Asset, AssetBook
from cryptohub.collector_market.providers import defillama
from cryptohub.common.providers import InvalidDataError, ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]

# No recordings of /v2/chains and /v2/historicalChainTvl exist. These bodies are made of the
# field examples of DefiLlama's OpenAPI document (DefiLlama/api-docs, defillama-openapi-free.json).
DOCUMENTED_CHAINS = (
    b'[{"gecko_id": "ethereum", "tvl": 65998652431.40251, "tokenSymbol": "ETH",'
    b' "cmcId": "1027", "name": "Ethereum", "chainId": 1}]'
)
DOCUMENTED_TOTAL = b'[{"date": 1609459200, "tvl": 15000000000}]'


def test_recorded_protocols_give_totals_and_real_chains_of_the_top_n(body: Body, ctx: Ctx) -> None:
    context = ctx("defillama")
    points = defillama.parse_protocols(body("defillama/protocols_trimmed.json"), context, top_n=3)
    totals = {p.protocol: p for p in points if p.chain is None}
    assert set(totals) == {"curve", "makerdao", "aave"}
    assert totals["curve"].tvl_usd == 16890071630.01999
    assert totals["curve"].change_1d_pct == 1.8300037499020476
    curve_chains = {p.chain: p.tvl_usd for p in points if p.protocol == "curve" and p.chain}
    # staking and Ethereum-staking are categories, not chains.
    assert set(curve_chains) == {
        "optimism",
        "avalanche",
        "harmony",
        "ethereum",
        "xdai",
        "polygon",
        "arbitrum",
        "fantom",
    }
    assert curve_chains["ethereum"] == 14742418001.99295
    assert all(p.observed_at == context.received_at for p in points)  # the list gives no time


def test_protocol_names_become_subject_safe_slugs(body: Body, ctx: Ctx) -> None:
    points = defillama.parse_protocols(
        body("defillama/protocols_trimmed.json"), ctx("defillama"), top_n=10
    )
    assert "polygon-bridge-staking" in {p.protocol for p in points}  # "polygon-bridge-&-staking"


def test_explicit_protocols_are_left_to_their_detail_call(body: Body, ctx: Ctx) -> None:
    points = defillama.parse_protocols(
        body("defillama/protocols_trimmed.json"), ctx("defillama"), top_n=3, exclude={"curve"}
    )
    assert {p.protocol for p in points if p.chain is None} == {"makerdao", "aave", "convex-finance"}


def test_recorded_protocol_detail_gives_current_total_and_chains_at_their_dates(
    body: Body, ctx: Ctx
) -> None:
    points = defillama.parse_protocol(
        body("defillama/protocol_anchor.json"), ctx("defillama"), protocol="anchor"
    )
    assert [(p.chain, p.tvl_usd) for p in points] == [
        (None, 7275519420.014553),
        ("terra", 7275519420.014553),  # Terra-borrowed and borrowed are categories
    ]
    assert points[0].observed_at == datetime.fromtimestamp(1643453912, UTC)


def test_recorded_charts_give_the_latest_defi_total(body: Body, ctx: Ctx) -> None:
    point = defillama.parse_charts(body("defillama/charts_total_tvl.json"), ctx("defillama"))
    assert (point.protocol, point.chain, point.tvl_usd) == ("all", None, 189871140356.02234)
    assert point.observed_at == datetime.fromtimestamp(1643414400, UTC)


def test_documented_total_and_chains(ctx: Ctx) -> None:
    total = defillama.parse_total(DOCUMENTED_TOTAL, ctx("defillama"))
    assert (total.protocol, total.tvl_usd) == ("all", 15000000000)
    assert total.observed_at == datetime.fromtimestamp(1609459200, UTC)
    [chain] = defillama.parse_chains(DOCUMENTED_CHAINS, ctx("defillama"), top_n=10)
    assert (chain.protocol, chain.chain, chain.tvl_usd) == ("all", "ethereum", 65998652431.40251)


def test_recorded_coin_prices_by_coingecko_id(body: Body, ctx: Ctx) -> None:
    book = AssetBook(
        [
            Asset("arbitrum", "arb", "Arbitrum"),
            Asset("dai", "dai", "Dai"),
            Asset("chainlink", "link", "Chainlink"),
        ]
    )
    ticks = defillama.parse_coin_prices(
        body("defillama/coins_prices_current_arbitrum_dai_chainlink.json"),
        ctx("defillama_coins"),
        book=book,
    )
    assert {(t.symbol, t.price, t.observed_at) for t in ticks} == {
        ("link", 17.22, datetime.fromtimestamp(1741276615, UTC)),
        ("dai", 0.99972, datetime.fromtimestamp(1741276617, UTC)),
        ("arb", 0.415488, datetime.fromtimestamp(1741276623, UTC)),
    }
    assert {t.source for t in ticks} == {"defillama_coins"}


def test_bad_tvl_bodies(body: Body, ctx: Ctx) -> None:
    with pytest.raises(InvalidDataError):
        defillama.parse_protocols(b"[]", ctx("defillama"), top_n=3)
    with pytest.raises(InvalidDataError):
        defillama.parse_total(b'[{"date": 1609459200, "tvl": "15000000000"}]', ctx("defillama"))
    with pytest.raises(ValueError, match="tvl_usd"):
        defillama.parse_total(b'[{"date": 1609459200, "tvl": -1}]', ctx("defillama"))
    with pytest.raises(InvalidDataError):
        defillama.parse_chains(b'{"message": "not found"}', ctx("defillama"), top_n=3)
