"""The maintained list of assets an article can mention: tickers, names, and how ambiguous each is.

To add an asset, add one row. `bare` says when its ticker counts without a `$`:
- ALWAYS: the upper-case ticker is not an ordinary word (BTC, XRP);
- MIXED_CASE: it is also a word or a common acronym (SOL, LINK, NEAR, DOT), so it counts only in
  text that is not written in capitals throughout (an all-caps headline shouts ordinary words);
- NEVER: too common to trust (ONE, OP, APT, CRO): only `$ONE` or the asset's name count.
Names in `names` match in any case; names in `proper_names` only as written (`Ripple`, not
"a ripple effect"). Names that are ordinary words on their own ("Avalanche", "Optimism",
"Stellar") are left out on purpose; the ticker or a longer name still finds them.
"""

import enum
from dataclasses import dataclass
from typing import Final

__all__ = ["ASSETS", "Asset", "Bare"]


class Bare(enum.Enum):
    ALWAYS = "always"
    MIXED_CASE = "mixed_case"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class Asset:
    symbol: str
    tickers: tuple[str, ...]
    bare: Bare = Bare.ALWAYS
    names: tuple[str, ...] = ()
    proper_names: tuple[str, ...] = ()


_A, _M, _N = Bare.ALWAYS, Bare.MIXED_CASE, Bare.NEVER

ASSETS: Final[tuple[Asset, ...]] = (
    Asset("btc", ("BTC", "XBT"), _A, ("bitcoin",)),
    Asset("eth", ("ETH",), _A, ("ethereum", "ether")),
    Asset("usdt", ("USDT",), _A, proper_names=("Tether",)),
    Asset("usdc", ("USDC",), _A, ("usd coin",)),
    Asset("bnb", ("BNB",), _A, ("binance coin", "bnb chain")),
    Asset("xrp", ("XRP",), _A, proper_names=("Ripple",)),
    Asset("sol", ("SOL",), _M, ("solana",)),
    Asset("ada", ("ADA",), _M, ("cardano",)),
    Asset("doge", ("DOGE",), _A, ("dogecoin",)),
    Asset("trx", ("TRX",), _A, ("tron",)),
    Asset("ton", ("TON",), _M, ("toncoin", "the open network")),
    Asset("avax", ("AVAX",), _A),
    Asset("shib", ("SHIB",), _A, ("shiba inu",)),
    Asset("dot", ("DOT",), _M, ("polkadot",)),
    Asset("link", ("LINK",), _M, ("chainlink",)),
    Asset("bch", ("BCH",), _A, ("bitcoin cash",)),
    Asset("ltc", ("LTC",), _A, ("litecoin",)),
    Asset("near", ("NEAR",), _M, ("near protocol",)),
    Asset("pol", ("POL", "MATIC"), _A, proper_names=("Polygon",)),
    Asset("uni", ("UNI",), _M, ("uniswap",)),
    Asset("icp", ("ICP",), _A, ("internet computer",)),
    Asset("etc", ("ETC",), _M, ("ethereum classic",)),
    Asset("apt", ("APT",), _N, ("aptos",)),
    Asset("xlm", ("XLM",), _A, ("stellar lumens",)),
    Asset("xmr", ("XMR",), _A, ("monero",)),
    Asset("atom", ("ATOM",), _M, ("cosmos hub",), ("Cosmos",)),
    Asset("fil", ("FIL",), _M, ("filecoin",)),
    Asset("hbar", ("HBAR",), _A, ("hedera",)),
    Asset("arb", ("ARB",), _A, ("arbitrum",)),
    Asset("op", ("OP",), _N),
    Asset("vet", ("VET",), _N, ("vechain",)),
    Asset("mkr", ("MKR",), _A, ("makerdao",)),
    Asset("aave", ("AAVE",), _A, ("aave",)),
    Asset("inj", ("INJ",), _A, ("injective",)),
    Asset("grt", ("GRT",), _A, proper_names=("The Graph",)),
    Asset("algo", ("ALGO",), _M, ("algorand",)),
    Asset("ftm", ("FTM",), _A, ("fantom",)),
    Asset("sui", ("SUI",), _A, ("sui network",)),
    Asset("sei", ("SEI",), _A, ("sei network",)),
    Asset("tia", ("TIA",), _A, ("celestia",)),
    Asset("stx", ("STX",), _A),
    Asset("imx", ("IMX",), _A, ("immutable x",)),
    Asset("rndr", ("RNDR",), _A, ("render network",)),
    Asset("pepe", ("PEPE",), _A),
    Asset("wif", ("WIF",), _A, ("dogwifhat",)),
    Asset("bonk", ("BONK",), _M),
    Asset("jup", ("JUP",), _A),
    Asset("ldo", ("LDO",), _A, ("lido dao",), ("Lido",)),
    Asset("crv", ("CRV",), _A, ("curve dao", "curve finance")),
    Asset("dai", ("DAI",), _M),
    Asset("zec", ("ZEC",), _A, ("zcash",)),
    Asset("eos", ("EOS",), _A),
    Asset("xtz", ("XTZ",), _A, ("tezos",)),
    Asset("kas", ("KAS",), _A, ("kaspa",)),
    Asset("wld", ("WLD",), _A, ("worldcoin",)),
    Asset("ena", ("ENA",), _A, ("ethena",)),
    Asset("ondo", ("ONDO",), _A, ("ondo finance",)),
    Asset("hype", ("HYPE",), _N, ("hyperliquid",)),
    Asset("one", ("ONE",), _N, ("harmony one", "harmony protocol")),
    Asset("gala", ("GALA",), _M, ("gala games",)),
    Asset("sand", ("SAND",), _M, proper_names=("The Sandbox",)),
    Asset("mana", ("MANA",), _M, ("decentraland",)),
    Asset("axs", ("AXS",), _A, ("axie infinity",)),
    Asset("dash", ("DASH",), _M),
    Asset("flow", ("FLOW",), _N, ("flow blockchain",)),
    Asset("cake", ("CAKE",), _N, ("pancakeswap",)),
    Asset("ape", ("APE",), _N, ("apecoin",)),
    Asset("cro", ("CRO",), _N, ("cronos",)),
    Asset("snx", ("SNX",), _A, ("synthetix",)),
    Asset("rune", ("RUNE",), _M, ("thorchain",)),
    Asset("fet", ("FET",), _A, ("fetch.ai",)),
    Asset("okb", ("OKB",), _A),
    Asset("qnt", ("QNT",), _A, ("quant network",)),
    Asset("wbtc", ("WBTC",), _A, ("wrapped bitcoin",)),
    Asset("pyusd", ("PYUSD",), _A, ("paypal usd",)),
)
