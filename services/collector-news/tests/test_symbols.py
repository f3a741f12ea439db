"""Asset tagging: what must be found, and ordinary words that must not be."""

import pytest

from cryptohub.collector_news.symbols import tag_symbols


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bitcoin tops $100K as ETF inflows grow", ("btc",)),
        ("BTC and ETH slide; SOL holds up", ("btc", "eth", "sol")),
        ("Traders pile into $SOL and $link after the upgrade", ("link", "sol")),
        ("Solana outage ends after five hours", ("sol",)),
        ("Chainlink's CCIP goes live on NEAR Protocol", ("link", "near")),
        ("LINK rallies 12% while DOT lags", ("dot", "link")),
        ("Polkadot parachain auction closes", ("dot",)),
        ("Most of the stolen funds sit in ether, which can't be frozen", ("eth",)),
        ("Bitcoin Cash forks again", ("bch",)),
        ("Wrapped Bitcoin supply hits record", ("wbtc",)),
        ("Ethereum Classic suffers 51% attack", ("etc",)),
        ("Ripple wins partial ruling; XRP jumps", ("xrp",)),
        ("Harmony ONE bridge exploited", ("one",)),
        ("$ONE holders vote on the bridge refund", ("one",)),
        ("BTC/USD and ETH-based tokens", ("btc", "eth")),
        ("Tether mints another $1B of USDT", ("usdt",)),
        ("Uniswap v4 launches", ("uni",)),
        ("#Bitcoin trends after halving", ("btc",)),
    ],
)
def test_mentioned_assets_are_found(text: str, expected: tuple[str, ...]) -> None:
    assert tag_symbols(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "This is ONE of the biggest hacks of the year",
        "Click the link below to read more",
        "Analysts see near-term weakness",
        "El sol sale por el este",  # Spanish 'sun'
        "Sol, the company's founder, resigned",  # a name
        "We connect the dots between policy and markets",
        "A ripple effect across the stock market",
        "THE ONE THING TO WATCH: NEAR-TERM LINK TO FED POLICY",  # shouting headline
        "SOL WAS THE WORD OF THE DAY AT THE CONFERENCE",  # shouting headline
        "Ethics board approves the budget",  # ETH inside a word
        "BTCUSD perpetuals listed",  # ticker glued to another
        "The company's CRO and CFO resigned",  # chief revenue officer
        "An APT group is behind the phishing wave",  # advanced persistent threat
        "The OP said the thread was locked",
        "Stocks rally; $TSLA and $AAPL lead",  # cashtags of no listed asset
        "Costs rose $100 to $2,000",
        "If you only can live with one thing/person for the rest of your life",
        "Prime Trust eliminated fees on etc and other items",
    ],
)
def test_ordinary_words_are_not_tickers(text: str) -> None:
    assert tag_symbols(text) == ()


def test_symbols_are_collected_across_title_and_summary_sorted_and_unique() -> None:
    assert tag_symbols("Bitcoin jumps", "BTC, ether and Solana follow") == ("btc", "eth", "sol")
