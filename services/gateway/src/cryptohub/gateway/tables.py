"""Which table stores each event kind, and how an event becomes one row of it."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from cryptohub.common.events import (
    Alert,
    Article,
    ArticleSentiment,
    AssetSentiment,
    BlockHead,
    Candle,
    Event,
    GasQuote,
    MarketGlobal,
    PriceTick,
    ProviderAttempt,
    ProviderStatusChange,
    SentimentIndex,
    TvlPoint,
    WhaleTransfer,
)

__all__ = ["COMMON_COLUMNS", "TABLES", "TABLE_FOR", "Column", "Table"]

Row: TypeAlias = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """A column, the PostgreSQL array type its values travel in, and the expression that turns
    the unnested value into the column (`string_to_array` for text arrays, which unnest flat)."""

    name: str
    array_type: str
    select: str = ""

    @property
    def quoted(self) -> str:
        return f'"{self.name}"'

    @property
    def expression(self) -> str:
        return self.select or f"u.{self.quoted}"


COMMON_COLUMNS: Final = (
    # Sent as text, parsed by PostgreSQL (asyncpg would build a uuid.UUID per row).
    Column("event_id", "text[]", 'u."event_id"::uuid'),
    Column("subject", "text[]"),
    Column("stream_seq", "int8[]"),
    # JetStream's store time as ns since the epoch (cheaper to send than a datetime).
    Column("published_at", "int8[]", 'to_timestamp(u."published_at" / 1e9)'),
    Column("source", "text[]"),
    Column("observed_at", "timestamptz[]"),
    Column("received_at", "timestamptz[]"),
    Column("payload", "json[]"),
)


@dataclass(frozen=True, slots=True)
class Table:
    """One event kind's table: its own columns after the common ones, and how to fill them."""

    name: str
    kind: type[Event]
    columns: tuple[Column, ...]
    values: Callable[[Any], Row]

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return COMMON_COLUMNS + self.columns

    def insert_sql(self) -> str:
        """One multi-row insert from parallel arrays; rows already stored are skipped."""
        return _insert_sql(self)


@functools.cache
def _insert_sql(table: Table) -> str:
    cols = table.all_columns
    names = ", ".join(c.quoted for c in cols)
    params = ", ".join(f"${i}::{c.array_type}" for i, c in enumerate(cols, start=1))
    exprs = ", ".join(c.expression for c in cols)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT {exprs} "  # noqa: S608 - names are ours
        f"FROM unnest({params}) AS u({names}) ON CONFLICT (event_id) DO NOTHING"
    )


def _f(name: str) -> Column:
    return Column(name, "float8[]")


def _t(name: str) -> Column:
    return Column(name, "text[]")


def _i(name: str) -> Column:
    return Column(name, "int8[]")


def _price(e: PriceTick) -> Row:
    return (e.symbol, e.quote, e.price, e.volume_24h, e.market_cap, e.change_24h_pct, e.confidence)


def _candle(e: Candle) -> Row:
    return (
        e.symbol,
        e.interval,
        e.open_time,
        e.open,
        e.high,
        e.low,
        e.close,
        e.volume,
        e.quote,
        e.is_final,
    )


def _global(e: MarketGlobal) -> Row:
    return (
        e.total_market_cap_usd,
        e.total_volume_usd,
        e.btc_dominance_pct,
        e.eth_dominance_pct,
        e.active_cryptocurrencies,
        e.market_cap_change_24h_pct,
    )


def _tvl(e: TvlPoint) -> Row:
    return (e.protocol, e.chain, e.tvl_usd, e.change_1d_pct)


def _gas(e: GasQuote) -> Row:
    return (e.chain, e.slow_gwei, e.standard_gwei, e.fast_gwei, e.base_fee_gwei, e.block_number)


def _block(e: BlockHead) -> Row:
    return (e.chain, e.number, e.hash, e.tx_count, e.gas_used, e.base_fee_gwei)


def _whale(e: WhaleTransfer) -> Row:
    return (
        e.chain,
        e.tx_hash,
        e.from_address,
        e.to_address,
        e.symbol,
        e.amount,
        e.usd_value,
        e.block_number,
    )


def _article(e: Article) -> Row:
    # Symbols match SYMBOL_PATTERN (no commas): joined here, split back by string_to_array.
    return (e.id, e.url, e.title, e.summary, e.outlet, e.language, ",".join(e.symbols))


def _article_sentiment(e: ArticleSentiment) -> Row:
    return (e.article_id, e.model, e.model_revision, e.label, e.score)


def _asset_sentiment(e: AssetSentiment) -> Row:
    return (e.symbol, e.window, e.score, e.label, e.article_count, e.confidence)


def _index(e: SentimentIndex) -> Row:
    return (e.name, e.value, e.classification)


def _attempt(e: ProviderAttempt) -> Row:
    return (e.provider, e.endpoint, e.ok, e.status, e.latency_ms, e.error_kind)


def _status(e: ProviderStatusChange) -> Row:
    return (e.provider, e.previous, e.current, e.reason)


def _alert(e: Alert) -> Row:
    return (e.id, e.rule, e.severity, e.state, e.message, e.provider, e.category)


TABLES: Final = (
    Table(
        "price_ticks",
        PriceTick,
        (
            _t("symbol"),
            _t("quote"),
            _f("price"),
            _f("volume_24h"),
            _f("market_cap"),
            _f("change_24h_pct"),
            _f("confidence"),
        ),
        _price,
    ),
    Table(
        "candles",
        Candle,
        (
            _t("symbol"),
            _t("interval"),
            Column("open_time", "timestamptz[]"),
            _f("open"),
            _f("high"),
            _f("low"),
            _f("close"),
            _f("volume"),
            _t("quote"),
            Column("is_final", "bool[]"),
        ),
        _candle,
    ),
    Table(
        "market_globals",
        MarketGlobal,
        (
            _f("total_market_cap_usd"),
            _f("total_volume_usd"),
            _f("btc_dominance_pct"),
            _f("eth_dominance_pct"),
            _i("active_cryptocurrencies"),
            _f("market_cap_change_24h_pct"),
        ),
        _global,
    ),
    Table(
        "tvl_points",
        TvlPoint,
        (_t("protocol"), _t("chain"), _f("tvl_usd"), _f("change_1d_pct")),
        _tvl,
    ),
    Table(
        "gas_quotes",
        GasQuote,
        (
            _t("chain"),
            _f("slow_gwei"),
            _f("standard_gwei"),
            _f("fast_gwei"),
            _f("base_fee_gwei"),
            _i("block_number"),
        ),
        _gas,
    ),
    Table(
        "block_heads",
        BlockHead,
        (
            _t("chain"),
            _i("number"),
            _t("hash"),
            _i("tx_count"),
            _i("gas_used"),
            _f("base_fee_gwei"),
        ),
        _block,
    ),
    Table(
        "whale_transfers",
        WhaleTransfer,
        (
            _t("chain"),
            _t("tx_hash"),
            _t("from_address"),
            _t("to_address"),
            _t("symbol"),
            _f("amount"),
            _f("usd_value"),
            _i("block_number"),
        ),
        _whale,
    ),
    Table(
        "articles",
        Article,
        (
            _t("article_id"),
            _t("url"),
            _t("title"),
            _t("summary"),
            _t("outlet"),
            _t("language"),
            Column("symbols", "text[]", "string_to_array(u.\"symbols\", ',')"),
        ),
        _article,
    ),
    Table(
        "article_sentiments",
        ArticleSentiment,
        (_t("article_id"), _t("model"), _t("model_revision"), _t("label"), _f("score")),
        _article_sentiment,
    ),
    Table(
        "asset_sentiments",
        AssetSentiment,
        (
            _t("symbol"),
            _t("window"),
            _f("score"),
            _t("label"),
            _i("article_count"),
            _f("confidence"),
        ),
        _asset_sentiment,
    ),
    Table(
        "sentiment_indexes",
        SentimentIndex,
        (_t("name"), Column("value", "int4[]"), _t("classification")),
        _index,
    ),
    Table(
        "provider_attempts",
        ProviderAttempt,
        (
            _t("provider"),
            _t("endpoint"),
            Column("ok", "bool[]"),
            Column("status", "int4[]"),
            _f("latency_ms"),
            _t("error_kind"),
        ),
        _attempt,
    ),
    Table(
        "provider_status_changes",
        ProviderStatusChange,
        (_t("provider"), _t("previous"), _t("current"), _t("reason")),
        _status,
    ),
    Table(
        "alerts",
        Alert,
        (
            _t("alert_id"),
            _t("rule"),
            _t("severity"),
            _t("state"),
            _t("message"),
            _t("provider"),
            _t("category"),
        ),
        _alert,
    ),
)
TABLE_FOR: Final[dict[type[Event], Table]] = {table.kind: table for table in TABLES}
