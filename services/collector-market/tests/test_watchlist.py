"""The asset registry and the watch list: ids per provider, collisions resolved by id."""

from collections.abc import Callable

from cryptohub.collector_market.assets import Asset, AssetBook, Coin, CoinIndex
from cryptohub.collector_market.providers import coingecko
from cryptohub.collector_market.watchlist import ListedCoin, build_watchlist
from cryptohub.common.providers import ParseContext

Body = Callable[[str], bytes]
Ctx = Callable[..., ParseContext]


def listed(cg: str, symbol: str, rank: int, name: str = "") -> ListedCoin:
    return ListedCoin("coingecko", cg, symbol, name or cg, rank, coingecko_id=cg)


def test_top_n_of_the_recorded_ranking(body: Body, ctx: Ctx) -> None:
    ranking = coingecko.parse_markets_listing(
        body("coingecko/coins_markets_usd_per_page250.json"), ctx("coingecko")
    )
    watch = build_watchlist(ranking, top_n=100)
    assert len(watch.book) == 100
    assert watch.book.assets[1] == Asset("bitcoin", "btc", "Bitcoin", 2)
    assert {a.symbol for a in watch.book.assets} >= {"btc", "eth", "usdt", "sol", "doge"}


def test_a_symbol_collision_keeps_the_better_ranked_asset_and_says_so() -> None:
    watch = build_watchlist(
        [
            listed("uniswap", "uni", 20),
            listed("unicorn-token", "uni", 80),
            listed("dai", "dai", 30),
        ],
        top_n=10,
    )
    assert [a.coingecko_id for a in watch.book.assets] == ["uniswap", "dai"]
    assert any("unicorn-token" in note and "uniswap" in note for note in watch.left_out)


def test_explicit_entries_are_added_by_id_and_an_ambiguous_symbol_is_refused() -> None:
    index = CoinIndex(
        [
            Coin("bitcoin", "btc", "Bitcoin"),
            Coin("osmosis-allbtc", "btc", "Osmosis allBTC"),
            Coin("pepe", "pepe", "Pepe"),
            Coin("dogwifcoin", "wif", "dogwifhat"),
            Coin("wif-2", "wif", "Wif"),
        ]
    )
    watch = build_watchlist(
        [listed("bitcoin", "btc", 1)],
        top_n=1,
        extra=["pepe", "wif", "osmosis-allbtc", "dogwifcoin"],
        index=index,
    )
    ids = [a.coingecko_id for a in watch.book.assets]
    assert ids == ["bitcoin", "pepe", "dogwifcoin"]
    notes = " | ".join(watch.left_out)
    assert "wif: ambiguous" in notes
    assert "osmosis-allbtc: symbol btc is bitcoin's" in notes


def test_symbols_that_cannot_be_subjects_are_not_watched() -> None:
    watch = build_watchlist([listed("weird", "we.ird", 1), listed("ok", "ok", 2)], top_n=5)
    assert [a.symbol for a in watch.book.assets] == ["ok"]


def test_exchange_codes_are_curated_first_then_the_symbol() -> None:
    book = AssetBook(
        [
            Asset("bitcoin", "btc", "Bitcoin"),
            Asset("dogecoin", "doge", "Dogecoin"),
            Asset("xbt-token", "xbt", "XBT Token"),  # would take Kraken's XBT by symbol alone
            Asset("solana", "sol", "Solana"),
        ]
    )
    assert book.by_code("kraken", "XBT") is book.by_coingecko("bitcoin")
    assert book.code_of("kraken", book.assets[2]) is None
    assert book.by_code("kraken", "XDG") is book.by_coingecko("dogecoin")
    assert book.by_code("binance", "SOL") is book.by_coingecko("solana")


def test_aggregator_entries_match_by_curated_id_or_symbol_and_name_never_symbol_alone() -> None:
    book = AssetBook([Asset("binancecoin", "bnb", "BNB"), Asset("pepe", "pepe", "Pepe")])
    assert book.by_listing("coinmarketcap", "1839", "BNB", "Binance Coin") is book.assets[0]
    assert book.by_listing("coinpaprika", "pepe-pepe", "PEPE", "Pepe") is book.assets[1]
    assert book.by_listing("coinpaprika", "pepe-fake", "PEPE", "Pepe Classic") is None
    # A curated id exists for this asset there, and it is another one: not this entry.
    assert book.by_listing("coinmarketcap", "9999", "BNB", "BNB") is None
