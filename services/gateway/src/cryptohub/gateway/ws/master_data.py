"""The old hub's `/ws/master` service payloads, built from live state: real values or nothing."""

from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from cryptohub.common import subjects
from cryptohub.common.events import (
    Article,
    ArticleSentiment,
    BlockHead,
    GasQuote,
    PriceTick,
    ProviderStatusChange,
    SentimentIndex,
    WhaleTransfer,
)
from cryptohub.gateway.feed import FeedMessage
from cryptohub.gateway.live import LiveState
from cryptohub.gateway.ws.frames import rfc3339

__all__ = ["DATA_SERVICES", "MasterData", "service_of"]

# Services the gateway has data for; the old hub's others are accepted but never updated.
DATA_SERVICES: Final = (
    "market_data",
    "news",
    "sentiment",
    "whale_tracking",
    "explorers",
    "health_checker",
)
_SERVICE_OF_ROOT: Final = {
    "market.price": "market_data",
    "news.article": "news",
    "sentiment.article": "news",
    "sentiment.index": "sentiment",
    "chain.whale": "whale_tracking",
    "chain.block": "explorers",
    "chain.gas": "explorers",
    "provider.status": "health_checker",
}
_PREFIX_TOKENS: Final = subjects.PREFIX.count(".") + 1
# Display names the old hub used for sources (its `sentiment_by_source` keys).
_SOURCE_NAMES: Final = {"alternative_me": "Alternative.me"}
_WHALE_ALERT_USD: Final = 1_000_000
_RECENT_WHALES: Final = 20
_SENTIMENT_MEMORY: Final = 1000


def service_of(subject: str) -> str | None:
    """The old hub service an event on `subject` updates, if any."""
    tokens = subject.split(".")[_PREFIX_TOKENS : _PREFIX_TOKENS + 2]
    return _SERVICE_OF_ROOT.get(".".join(tokens))


def _ms(moment: datetime) -> str:
    return rfc3339(moment)


class MasterData:
    """Recent articles, their sentiment and whale transfers (live state keeps only the latest of
    each subject), plus builders of each service's `data` from them and from live state."""

    def __init__(self, live: LiveState, *, news_items: int) -> None:
        self._live = live
        self.news_items = news_items
        self._articles: deque[Article] = deque(maxlen=news_items)
        self._sentiments: OrderedDict[str, ArticleSentiment] = OrderedDict()
        self._whales: deque[WhaleTransfer] = deque(maxlen=_RECENT_WHALES)
        self._builders: dict[str, Callable[[], dict[str, Any] | None]] = {
            "market_data": self._market_data,
            "news": self._news,
            "sentiment": self._sentiment,
            "whale_tracking": self._whale_tracking,
            "explorers": self._explorers,
            "health_checker": self._health_checker,
        }

    def remember(self, msg: FeedMessage) -> None:
        """Keep what the payloads need beyond the latest value per subject."""
        event = msg.event
        if isinstance(event, Article):
            if all(a.id != event.id for a in self._articles):
                self._articles.append(event)
        elif isinstance(event, ArticleSentiment):
            self._sentiments[event.article_id] = event
            self._sentiments.move_to_end(event.article_id)
            while len(self._sentiments) > _SENTIMENT_MEMORY:
                self._sentiments.popitem(last=False)
        elif isinstance(event, WhaleTransfer):
            self._whales.append(event)

    def warm(self, messages: list[FeedMessage]) -> None:
        """Take recent history read back at start; live messages already taken stay."""
        articles, whales = list(self._articles), list(self._whales)
        for msg in messages:
            self.remember(msg)
        merged_articles = {a.id: a for a in [*self._articles, *articles]}
        self._articles.clear()
        self._articles.extend(sorted(merged_articles.values(), key=lambda a: a.observed_at))
        merged_whales = {(w.chain, w.tx_hash, w.symbol): w for w in [*self._whales, *whales]}
        self._whales.clear()
        self._whales.extend(sorted(merged_whales.values(), key=lambda w: w.observed_at))

    def build(self, service: str) -> dict[str, Any] | None:
        """The service's `data`, or None when there is nothing real to send."""
        builder = self._builders.get(service)
        return None if builder is None else builder()

    def _latest(self, pattern: str, kind: type[Any]) -> list[Any]:
        return [m.event for m in self._live.matching(pattern) if isinstance(m.event, kind)]

    def _market_data(self) -> dict[str, Any] | None:
        prices: dict[str, float] = {}
        volumes: dict[str, float] = {}
        caps: dict[str, float] = {}
        changes: dict[str, float] = {}
        newest: datetime | None = None
        for latest in self._live.matching(subjects.all_prices()):
            msg = self._live.by_source(latest.subject).get("consensus")
            if msg is None or not isinstance(msg.event, PriceTick) or msg.event.quote != "usd":
                continue
            tick = msg.event
            symbol = tick.symbol.upper()
            prices[symbol] = tick.price
            if tick.volume_24h is not None:
                volumes[symbol] = tick.volume_24h
            if tick.market_cap is not None:
                caps[symbol] = tick.market_cap
            if tick.change_24h_pct is not None:
                changes[symbol] = tick.change_24h_pct
            newest = tick.observed_at if newest is None else max(newest, tick.observed_at)
        if newest is None:
            return None
        return {
            "prices": prices,
            "volumes": volumes,
            "market_caps": caps,
            "price_changes": changes,
            "source": "consensus",
            "timestamp": _ms(newest),
        }

    def _article(self, article: Article) -> dict[str, Any]:
        scored = self._sentiments.get(article.id)
        summary = article.summary
        return {
            "id": article.id,
            "title": article.title,
            "description": summary if len(summary) <= 200 else summary[:200] + "...",
            "content": summary,
            "source": article.outlet or article.source,
            "published_at": _ms(article.observed_at),
            "url": article.url,
            "sentiment": None if scored is None else scored.label,
            "sentiment_score": None if scored is None else scored.score,
            "tags": [s.upper() for s in article.symbols],
        }

    def _news(self) -> dict[str, Any] | None:
        if not self._articles:
            return None
        articles = sorted(self._articles, key=lambda a: a.observed_at, reverse=True)
        return {
            "articles": [self._article(a) for a in articles],
            "sources": sorted({a.source for a in articles}),
            "categories": [],
            "timestamp": _ms(articles[0].observed_at),
        }

    def _sentiment(self) -> dict[str, Any] | None:
        indexes: list[SentimentIndex] = self._latest(
            subjects.all_sentiment_indexes(), SentimentIndex
        )
        if not indexes:
            return None
        main = next((i for i in indexes if "fear" in i.name), indexes[0])
        return {
            "overall_sentiment": main.classification,
            "sentiment_score": main.value,
            "social_volume": None,
            "trending_topics": [],
            "sentiment_by_source": {
                _SOURCE_NAMES.get(i.source, i.source): {
                    "value": i.value,
                    "classification": i.classification,
                }
                for i in indexes
            },
            "timestamp": _ms(main.observed_at),
        }

    def _whale_tracking(self) -> dict[str, Any] | None:
        if not self._whales:
            return None
        whales = sorted(self._whales, key=lambda w: w.observed_at, reverse=True)
        return {
            "large_transactions": [
                {
                    "amount": w.amount,
                    "amount_usd": w.usd_value,
                    "symbol": w.symbol.upper(),
                    "from": w.from_address,
                    "to": w.to_address,
                    "timestamp": _ms(w.observed_at),
                    "source": w.source,
                    "hash": w.tx_hash,
                    "chain": w.chain,
                    "from_owner": None,
                    "to_owner": None,
                }
                for w in whales
            ],
            "whale_wallets": [],
            "total_volume": sum(w.usd_value for w in whales if w.usd_value is not None),
            "alert_threshold": _WHALE_ALERT_USD,
            "timestamp": _ms(whales[0].observed_at),
        }

    def _explorers(self) -> dict[str, Any] | None:
        blocks: list[BlockHead] = self._latest(subjects.all_blocks(), BlockHead)
        gas: list[GasQuote] = self._latest(subjects.all_gas(), GasQuote)
        if not blocks and not gas:
            return None
        main = next((b for b in blocks if b.chain == "ethereum"), blocks[0] if blocks else None)
        times = [b.observed_at for b in blocks] + [g.observed_at for g in gas]
        return {
            "latest_block": None if main is None else main.number,
            "network_hashrate": None,
            "difficulty": None,
            "mempool_size": None,
            "transactions_count": None if main is None else main.tx_count,
            "gas_prices": {
                g.chain: {"safe": g.slow_gwei, "propose": g.standard_gwei, "fast": g.fast_gwei}
                for g in gas
            },
            "blocks": {
                b.chain: {
                    "number": b.number,
                    "hash": b.hash,
                    "tx_count": b.tx_count,
                    "timestamp": _ms(b.observed_at),
                }
                for b in blocks
            },
            "timestamp": _ms(max(times)),
        }

    def _health_checker(self) -> dict[str, Any] | None:
        changes: list[ProviderStatusChange] = self._latest(
            subjects.all_provider_statuses(), ProviderStatusChange
        )
        if not changes:
            return None
        online = sum(c.current == "online" for c in changes)
        ratio = online / len(changes)
        overall = "healthy" if ratio >= 0.9 else "degraded" if ratio >= 0.7 else "unhealthy"
        return {
            "overall_health": overall,
            "healthy_count": online,
            "unhealthy_count": len(changes) - online,
            "total_providers": len(changes),
            "providers": {
                c.provider: {
                    "status": c.current,
                    "response_time_ms": None,
                    "last_check": _ms(c.observed_at),
                }
                for c in sorted(changes, key=lambda c: c.provider)
            },
            "timestamp": _ms(max(c.observed_at for c in changes)),
        }
