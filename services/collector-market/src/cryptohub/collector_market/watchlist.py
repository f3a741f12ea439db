"""The watch list: the top N assets by market cap plus an explicit list, one asset per symbol."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptohub.collector_market.assets import (
    Asset,
    AssetBook,
    CoinIndex,
    known_id_to_coingecko,
    subject_safe,
)
from cryptohub.collector_market.known_assets import KNOWN_SYMBOLS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ListedCoin:
    """One entry of a provider's market-cap ranking, as the provider names it."""

    provider: str
    provider_id: str
    symbol: str
    name: str
    rank: int | None
    coingecko_id: str | None = None  # known when the provider is CoinGecko


@dataclass(frozen=True, slots=True)
class WatchList:
    """The assets to watch, and what was left out and why (said once, in the log)."""

    book: AssetBook
    left_out: tuple[str, ...] = field(default=())


def _coingecko_id(coin: ListedCoin, index: CoinIndex | None) -> str | None:
    if coin.coingecko_id is not None:
        return coin.coingecko_id
    known = known_id_to_coingecko(coin.provider, coin.provider_id)
    if known is not None:
        return known
    return index.resolve(coin.symbol, coin.name) if index is not None else None


def resolve_extra(entry: str, index: CoinIndex | None, ranked: dict[str, Asset]) -> str | None:
    """An explicit entry as a CoinGecko id: an id as is, a symbol only if it names one coin
    (or one of the ranked ones); an ambiguous symbol is refused, never guessed."""
    if entry in ranked or (index is not None and index.get(entry) is not None):
        return entry
    if entry in KNOWN_SYMBOLS:
        return KNOWN_SYMBOLS[entry]
    if index is None:
        return entry  # taken as an id until coins/list is loaded
    candidates = [c.coingecko_id for c in index.with_symbol(entry)]
    if len(candidates) == 1:
        return candidates[0]
    among_ranked = [c for c in candidates if c in ranked]
    if len(among_ranked) == 1:
        return among_ranked[0]
    return None


def _symbol_and_name(coingecko_id: str, index: CoinIndex | None) -> tuple[str | None, str]:
    coin = index.get(coingecko_id) if index is not None else None
    if coin is not None:
        return coin.symbol.lower(), coin.name
    known = next((s for s, cid in KNOWN_SYMBOLS.items() if cid == coingecko_id), None)
    return known, coingecko_id


def build_watchlist(
    listed: Iterable[ListedCoin],
    *,
    top_n: int,
    extra: Sequence[str] = (),
    index: CoinIndex | None = None,
) -> WatchList:
    """Top `top_n` of `listed` by rank, then `extra`. A symbol already held by a better-ranked
    asset is not given to another (they would share a subject); the loser is named in
    `left_out`."""
    left_out: list[str] = []
    ranked: dict[str, Asset] = {}
    holders: dict[str, Asset] = {}
    ordered = sorted(listed, key=lambda c: (c.rank is None, c.rank or 0))
    for coin in ordered:
        if len(ranked) >= top_n:
            break
        symbol = coin.symbol.lower()
        coingecko_id = _coingecko_id(coin, index)
        if coingecko_id is None:
            left_out.append(f"{coin.provider}:{coin.provider_id} ({symbol}): no CoinGecko id")
            continue
        if coingecko_id in ranked:
            continue
        if not subject_safe(symbol):
            left_out.append(f"{coingecko_id}: symbol {coin.symbol!r} cannot be a subject token")
            continue
        holder = holders.get(symbol)
        if holder is not None:
            left_out.append(
                f"{coingecko_id}: symbol {symbol} is {holder.coingecko_id}'s (rank {holder.rank})"
            )
            continue
        asset = Asset(coingecko_id, symbol, coin.name, coin.rank)
        ranked[coingecko_id] = holders[symbol] = asset
    assets = dict(ranked)
    for entry in extra:
        coingecko_id = resolve_extra(entry, index, ranked)
        if coingecko_id is None:
            left_out.append(f"{entry}: ambiguous or unknown symbol; list it by CoinGecko id")
            continue
        if coingecko_id in assets:
            continue
        found, name = _symbol_and_name(coingecko_id, index)
        if found is None or not subject_safe(found):
            left_out.append(f"{coingecko_id}: no usable symbol (coins/list not loaded?)")
            continue
        holder = holders.get(found)
        if holder is not None:
            left_out.append(f"{coingecko_id}: symbol {found} is {holder.coingecko_id}'s")
            continue
        assets[coingecko_id] = holders[found] = Asset(coingecko_id, found, name, None)
    return WatchList(book=AssetBook(assets.values()), left_out=tuple(left_out))
