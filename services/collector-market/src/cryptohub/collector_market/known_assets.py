"""Provider ids of well-known assets that cannot be derived from the symbol or the name.

Keyed by CoinGecko id. A provider missing from an entry falls back to the derivation rules in
`assets`; `None` pins "not listed there" (e.g. USDT quoted in USDT on Binance). These are the
cases where a derived id would be wrong or ambiguous, so they are written down once, here.
"""

from collections.abc import Mapping
from typing import Final

# provider -> that provider's id or base code of the asset
KnownIds = Mapping[str, str | None]

KNOWN: Final[Mapping[str, KnownIds]] = {
    "bitcoin": {
        "binance": "BTC",
        "kraken": "XBT",
        "cryptocompare": "BTC",
        "coinpaprika": "btc-bitcoin",
        "coincap": "bitcoin",
        "coinmarketcap": "1",
    },
    "ethereum": {
        "binance": "ETH",
        "kraken": "ETH",
        "cryptocompare": "ETH",
        "coinpaprika": "eth-ethereum",
        "coincap": "ethereum",
        "coinmarketcap": "1027",
    },
    "tether": {
        "binance": None,  # the quote currency itself
        "kraken": "USDT",
        "coinpaprika": "usdt-tether",
        "coincap": "tether",
        "coinmarketcap": "825",
    },
    "binancecoin": {
        "coinpaprika": "bnb-binance-coin",
        "coincap": "binance-coin",
        "coinmarketcap": "1839",
    },
    "ripple": {"coinpaprika": "xrp-xrp", "coincap": "xrp", "coinmarketcap": "52"},
    "usd-coin": {"coinpaprika": "usdc-usd-coin", "coincap": "usd-coin", "coinmarketcap": "3408"},
    "solana": {"coinpaprika": "sol-solana", "coincap": "solana", "coinmarketcap": "5426"},
    "cardano": {"coinpaprika": "ada-cardano", "coincap": "cardano", "coinmarketcap": "2010"},
    "dogecoin": {
        "kraken": "XDG",
        "coinpaprika": "doge-dogecoin",
        "coincap": "dogecoin",
        "coinmarketcap": "74",
    },
    "tron": {"coinpaprika": "trx-tron", "coincap": "tron", "coinmarketcap": "1958"},
    "avalanche-2": {
        "coinpaprika": "avax-avalanche",
        "coincap": "avalanche",
        "coinmarketcap": "5805",
    },
    "polkadot": {"coinpaprika": "dot-polkadot", "coincap": "polkadot", "coinmarketcap": "6636"},
    "chainlink": {"coinpaprika": "link-chainlink", "coincap": "chainlink", "coinmarketcap": "1975"},
    "litecoin": {"coinpaprika": "ltc-litecoin", "coincap": "litecoin", "coinmarketcap": "2"},
    "bitcoin-cash": {
        "coinpaprika": "bch-bitcoin-cash",
        "coincap": "bitcoin-cash",
        "coinmarketcap": "1831",
    },
    "stellar": {"coinpaprika": "xlm-stellar", "coincap": "stellar", "coinmarketcap": "512"},
    "shiba-inu": {"coinpaprika": "shib-shiba-inu", "coincap": "shiba-inu", "coinmarketcap": "5994"},
    "uniswap": {"coinpaprika": "uni-uniswap", "coincap": "uniswap", "coinmarketcap": "7083"},
}

# Names the curated table knows, for candles configured by symbol before any watch list exists.
KNOWN_SYMBOLS: Final[Mapping[str, str]] = {
    "btc": "bitcoin",
    "eth": "ethereum",
    "usdt": "tether",
    "bnb": "binancecoin",
    "xrp": "ripple",
    "usdc": "usd-coin",
    "sol": "solana",
    "ada": "cardano",
    "doge": "dogecoin",
    "trx": "tron",
    "avax": "avalanche-2",
    "dot": "polkadot",
    "link": "chainlink",
    "ltc": "litecoin",
    "bch": "bitcoin-cash",
    "xlm": "stellar",
    "shib": "shiba-inu",
    "uni": "uniswap",
}
