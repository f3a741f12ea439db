"""Loading models: a local directory or a Hub id from the cache, offline; labels; fallbacks."""

import logging
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import constants

from cryptohub.common.events import Article
from cryptohub.sentiment.bert import BertModel
from cryptohub.sentiment.errors import ModelUnavailableError
from cryptohub.sentiment.routing import load_models
from cryptohub.sentiment.settings import Settings
from cryptohub.sentiment.synthetic import build_classifier, install_in_hf_cache

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def assert_valid(prediction_probs: dict[str, float], labels: set[str]) -> None:
    assert set(prediction_probs) == labels
    assert all(0.0 <= p <= 1.0 for p in prediction_probs.values())
    assert math.isclose(sum(prediction_probs.values()), 1.0, abs_tol=1e-5)


def test_tiny_model_in_a_local_directory_loads_like_a_real_one(
    tiny_model_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        sentiment_news_model=str(tiny_model_dir), sentiment_social_model=str(tiny_model_dir)
    )
    router = load_models(settings)
    model = router.news
    assert isinstance(model, BertModel)
    assert router.social is model  # same weights are loaded once
    assert model.name == str(tiny_model_dir)
    assert model.revision is not None
    assert model.revision.startswith("sha256:")
    assert model.device == "cpu"
    assert model.labels == ("bearish", "neutral", "bullish")
    predictions = model.predict(["Bitcoin surges", "Hackers stole ether", "Markets are calm"])
    assert len(predictions) == 3
    for p in predictions:
        assert_valid(p.probabilities, {"bearish", "neutral", "bullish"})
        assert p.label == max(p.probabilities, key=lambda k: p.probabilities[k])
        assert p.score == pytest.approx(p.probabilities["bullish"] - p.probabilities["bearish"])


def test_hub_model_id_is_found_in_the_cache_with_its_commit_as_revision(
    tiny_model_dir: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    install_in_hf_cache(tiny_model_dir, tmp_path, "acme/tiny-cryptobert", COMMIT)
    settings = make_settings(
        sentiment_news_model="acme/tiny-cryptobert",
        sentiment_social_model="acme/tiny-cryptobert",
        sentiment_hf_cache_dir=str(tmp_path),
    )
    model = load_models(settings).news
    assert isinstance(model, BertModel)
    assert (model.name, model.revision) == ("acme/tiny-cryptobert", COMMIT)


def test_hf_hub_offline_forbids_a_download_even_when_allowed(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    settings = make_settings(
        sentiment_backend="bert",
        sentiment_news_model="acme/not-downloaded",
        sentiment_social_model="acme/not-downloaded",
        sentiment_hf_cache_dir=str(tmp_path),
        sentiment_allow_download=True,
    )
    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE is set"):
        load_models(settings)


def test_input_is_truncated_to_the_models_max_length(
    tiny_model_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        sentiment_news_model=str(tiny_model_dir), sentiment_social_model=str(tiny_model_dir)
    )
    model = load_models(settings).news
    assert isinstance(model, BertModel)
    assert model.max_length == 64  # the tiny model has 64 positions; the setting asks 128
    (p,) = model.predict(["bitcoin " * 10_000])
    assert_valid(p.probabilities, {"bearish", "neutral", "bullish"})


def test_generic_class_names_load_with_a_label_map_and_report_only_their_classes(
    tmp_path: Path, make_settings: Callable[..., Settings], torch_required: None
) -> None:
    model_dir = build_classifier(tmp_path / "two", id2label={0: "LABEL_0", 1: "LABEL_1"})
    settings = make_settings(
        sentiment_news_model=str(model_dir),
        sentiment_social_model=str(model_dir),
        sentiment_label_map={str(model_dir): {"LABEL_0": "bearish", "LABEL_1": "bullish"}},
    )
    model = load_models(settings).news
    assert isinstance(model, BertModel)
    (p,) = model.predict(["Bitcoin surges"])
    assert_valid(p.probabilities, {"bearish", "bullish"})


def test_generic_class_names_without_a_map_fall_back_to_vader_and_say_why(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    torch_required: None,
) -> None:
    model_dir = build_classifier(tmp_path / "two", id2label={0: "LABEL_0", 1: "LABEL_1"})
    settings = make_settings(
        sentiment_news_model=str(model_dir), sentiment_social_model=str(model_dir)
    )
    with caplog.at_level(logging.INFO, logger="cryptohub.sentiment"):
        router = load_models(settings)
    assert router.news.name == "vader"
    assert "cannot map its classes" in caplog.text


def test_thread_count_is_applied(
    tiny_model_dir: Path, make_settings: Callable[..., Settings]
) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        load_models(
            make_settings(
                sentiment_news_model=str(tiny_model_dir),
                sentiment_social_model=str(tiny_model_dir),
                sentiment_threads=1,
            )
        )
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_no_weights_means_vader_logged_once_with_the_reason(
    tmp_path: Path, make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(sentiment_hf_cache_dir=str(tmp_path))  # the default model ids
    with caplog.at_level(logging.INFO, logger="cryptohub.sentiment"):
        router = load_models(settings)
    assert router.news.name == router.social.name == "vader"
    lines = [r.getMessage() for r in caplog.records if r.name == "cryptohub.sentiment.routing"]
    assert len(lines) == 1
    assert "vader" in lines[0]
    assert "kk08/CryptoBERT" in lines[0]
    assert "ElKulako/cryptobert" in lines[0]


def test_social_posts_get_the_social_model_and_news_the_news_model(
    tiny_model_dir: Path,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    make_article: Callable[..., Article],
) -> None:
    install_in_hf_cache(tiny_model_dir, tmp_path, "acme/social", COMMIT)
    settings = make_settings(
        sentiment_news_model=str(tiny_model_dir),
        sentiment_social_model="acme/social",
        sentiment_hf_cache_dir=str(tmp_path),
    )
    router = load_models(settings)
    assert router.model_for(make_article("gm", source="reddit")).name == "acme/social"
    assert router.model_for(make_article("Bitcoin ETF")).name == str(tiny_model_dir)


def test_bert_backend_refuses_to_run_without_weights(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(sentiment_backend="bert", sentiment_hf_cache_dir=str(tmp_path))
    with pytest.raises(ModelUnavailableError):
        load_models(settings)
