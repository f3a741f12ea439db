"""The asset registry: watched assets and how each provider names them, collisions resolved by id.

An asset is canonical as (lower-case symbol, CoinGecko id). Exchanges name assets by ticker codes
(Binance `BTC` in `BTCUSDT`, Kraken `XBT`); data aggregators by their own ids (CoinPaprika
`btc-bitcoin`, CoinMarketCap `1`). A provider's name for an asset comes from the curated table
in `known_assets` first; otherwise exchanges use the upper-case symbol and aggregators must match
both symbol and name. A code or symbol two assets could claim goes to the one the curated table
names, never to both.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from cryptohub.collector_market.known_assets import KNOWN, KnownIds
from cryptohub.common.events import SYMBOL_PATTERN

# Providers that name assets by ticker codes (a code is the upper-case symbol unless curated).
CODE_PROVIDERS: Final = frozenset({"binance", "kraken", "cryptocompare"})

_SYMBOL = re.compile(SYMBOL_PATTERN)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str) -> str:
    """`Binance Coin` and `binance-coin` compare equal; case and punctuation do not count."""
    return _NOT_ALNUM.sub("", name.lower())


def subject_safe(symbol: str) -> bool:
    """Whether a symbol can be a NATS subject token (and so a PriceTick symbol)."""
    return _SYMBOL.search(symbol) is not None


@dataclass(frozen=True, slots=True)
class Asset:
    """A watched asset: its CoinGecko id, lower-case symbol, name and market-cap rank."""

    coingecko_id: str
    symbol: str
    name: str
    rank: int | None = None


class AssetBook:
    """An immutable snapshot of the watched assets with every provider's name for them."""

    def __init__(self, assets: Iterable[Asset], known: Mapping[str, KnownIds] = KNOWN) -> None:
        self.assets: tuple[Asset, ...] = tuple(assets)
        self._known = known
        self._by_id: dict[str, Asset] = {}
        self._by_symbol: dict[str, Asset] = {}
        for asset in self.assets:
            if asset.coingecko_id in self._by_id or asset.symbol in self._by_symbol:
                raise ValueError(f"asset {asset.coingecko_id} ({asset.symbol}) is listed twice")
            self._by_id[asset.coingecko_id] = asset
            self._by_symbol[asset.symbol] = asset
        self._codes: dict[str, dict[str, Asset]] = {p: {} for p in CODE_PROVIDERS}
        self._ids: dict[str, dict[str, Asset]] = {}
        # Curated names first, so a derived code never takes one the table gives another asset.
        for asset in self.assets:
            for provider, value in known.get(asset.coingecko_id, {}).items():
                if value is None:
                    continue
                if provider in CODE_PROVIDERS:
                    self._codes[provider][value.upper()] = asset
                else:
                    self._ids.setdefault(provider, {})[value] = asset
        for asset in self.assets:
            for provider in CODE_PROVIDERS:
                if provider in known.get(asset.coingecko_id, {}):
                    continue
                self._codes[provider].setdefault(asset.symbol.upper(), asset)

    def __len__(self) -> int:
        return len(self.assets)

    def by_coingecko(self, coingecko_id: str) -> Asset | None:
        return self._by_id.get(coingecko_id)

    def by_symbol(self, symbol: str) -> Asset | None:
        return self._by_symbol.get(symbol.lower())

    def code_of(self, provider: str, asset: Asset) -> str | None:
        """The ticker code `provider` uses for `asset` (None: not listed there)."""
        known = self._known.get(asset.coingecko_id, {})
        code = known[provider] if provider in known else asset.symbol.upper()
        if code is None or self._codes.get(provider, {}).get(code.upper()) is not asset:
            return None
        return code

    def by_code(self, provider: str, code: str) -> Asset | None:
        """The watched asset `provider` calls `code` (a ticker code such as `XBT`)."""
        return self._codes.get(provider, {}).get(code.upper())

    def id_of(self, provider: str, asset: Asset) -> str | None:
        """The curated id `provider` gives `asset` (e.g. CoinMarketCap `1`), if known."""
        return self._known.get(asset.coingecko_id, {}).get(provider)

    def by_listing(
        self, provider: str, provider_id: str, symbol: str, name: str, slug: str | None = None
    ) -> Asset | None:
        """The watched asset an aggregator's entry stands for: by curated id, else by symbol
        and name (or slug / id equal to the CoinGecko id). Never by symbol alone."""
        curated = self._ids.get(provider, {}).get(provider_id)
        if curated is not None:
            return curated
        asset = self._by_symbol.get(symbol.lower())
        if asset is None:
            return None
        pinned = self._known.get(asset.coingecko_id, {})
        if provider in pinned:  # the table names this asset's id there, and it is not this one
            return None
        same = (
            normalise_name(name) == normalise_name(asset.name)
            or slug == asset.coingecko_id
            or provider_id == asset.coingecko_id
        )
        return asset if same else None


@dataclass(frozen=True, slots=True)
class Coin:
    """One entry of CoinGecko's coins/list: every coin it knows, watched or not."""

    coingecko_id: str
    symbol: str
    name: str


class CoinIndex:
    """CoinGecko's coins/list, to resolve a symbol or another provider's entry to a CoinGecko id."""

    def __init__(self, coins: Iterable[Coin]) -> None:
        self._by_id: dict[str, Coin] = {}
        self._by_symbol: dict[str, list[Coin]] = {}
        for coin in coins:
            self._by_id[coin.coingecko_id] = coin
            self._by_symbol.setdefault(coin.symbol.lower(), []).append(coin)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, coingecko_id: str) -> Coin | None:
        return self._by_id.get(coingecko_id)

    def with_symbol(self, symbol: str) -> list[Coin]:
        """Every coin using `symbol`; more than one is a collision to resolve by id."""
        return list(self._by_symbol.get(symbol.lower(), ()))

    def resolve(self, symbol: str, name: str) -> str | None:
        """The CoinGecko id of the only coin with this symbol and name; None if none or many."""
        wanted = normalise_name(name)
        found = [c for c in self.with_symbol(symbol) if normalise_name(c.name) == wanted]
        return found[0].coingecko_id if len(found) == 1 else None


def known_id_to_coingecko(provider: str, provider_id: str) -> str | None:
    """The CoinGecko id the curated table gives `provider`'s id, if any."""
    for coingecko_id, ids in KNOWN.items():
        if ids.get(provider) == provider_id:
            return coingecko_id
    return None
