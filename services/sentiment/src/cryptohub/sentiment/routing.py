"""Which model scores which article: BERT models per kind of text, VADER when none loads."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptohub.common.events import Article
from cryptohub.sentiment.bert import BertModel
from cryptohub.sentiment.errors import ModelUnavailableError
from cryptohub.sentiment.model import SentimentModel
from cryptohub.sentiment.settings import Settings
from cryptohub.sentiment.vader import VaderModel
from cryptohub.sentiment.weights import locate_weights

__all__ = ["ModelRouter", "load_models"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModelRouter:
    """Social posts (articles from `social_sources`) go to the social model, the rest to news."""

    news: SentimentModel
    social: SentimentModel
    social_sources: frozenset[str]

    def model_for(self, article: Article) -> SentimentModel:
        return self.social if article.source in self.social_sources else self.news

    def models(self) -> list[SentimentModel]:
        return list({id(m): m for m in (self.news, self.social)}.values())


def _load_bert(settings: Settings, model: str, revision: str | None) -> BertModel:
    weights = locate_weights(
        model,
        revision=revision,
        cache_dir=settings.sentiment_hf_cache_dir,
        allow_download=settings.sentiment_allow_download,
    )
    return BertModel.load(
        weights,
        label_overrides=settings.sentiment_label_map.get(model),
        device=settings.sentiment_device,
        threads=settings.sentiment_threads,
        max_tokens=settings.sentiment_max_tokens,
    )


def load_models(
    settings: Settings, *, load_bert: Callable[[Settings, str, str | None], BertModel] = _load_bert
) -> ModelRouter:
    """Load the configured models and log, once, which model each kind of text gets and why.

    Blocking (model loading reads hundreds of MB): run it in a thread. Raises
    ModelUnavailableError only when the backend is `bert` and no BERT model loads.
    """
    social_sources = frozenset(settings.sentiment_social_sources)
    if settings.sentiment_backend == "lexicon":
        vader = VaderModel()
        log.info(
            "sentiment model: vader %s for all articles (CRYPTOHUB_SENTIMENT_BACKEND=lexicon)",
            vader.revision,
        )
        return ModelRouter(vader, vader, social_sources)

    wanted = {
        "news": (settings.sentiment_news_model, settings.sentiment_news_revision),
        "social": (settings.sentiment_social_model, settings.sentiment_social_revision),
    }
    loaded: dict[tuple[str, str | None], BertModel] = {}
    failures: dict[str, ModelUnavailableError] = {}
    chosen: dict[str, BertModel] = {}
    for kind, key in wanted.items():
        if key not in loaded:
            try:
                loaded[key] = load_bert(settings, *key)
            except ModelUnavailableError as exc:
                failures[kind] = exc
                continue
        chosen[kind] = loaded[key]

    if not chosen:
        reasons = "; ".join(f"{kind}: {exc}" for kind, exc in failures.items())
        if settings.sentiment_backend == "bert":
            raise failures.get("news") or next(iter(failures.values()))
        vader = VaderModel()
        log.warning(
            "sentiment model: vader %s for all articles (lexicon fallback) because no BERT "
            "model is available: %s",
            vader.revision,
            reasons,
        )
        return ModelRouter(vader, vader, social_sources)

    for kind in wanted:
        if kind in chosen:
            model = chosen[kind]
            log.info(
                "sentiment model for %s: %s (revision %s) on %s, max %d tokens",
                kind,
                model.name,
                model.revision,
                model.device,
                model.max_length,
            )
        else:
            other = next(iter(chosen.values()))
            chosen[kind] = other
            log.warning(
                "sentiment model for %s: %s (revision %s), because %s",
                kind,
                other.name,
                other.revision,
                failures[kind],
            )
    return ModelRouter(chosen["news"], chosen["social"], social_sources)
