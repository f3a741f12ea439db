"""Mapping a model's classes to bearish / neutral / bullish, and predictions from probabilities."""

import math

import pytest

from cryptohub.sentiment.errors import LabelMappingError
from cryptohub.sentiment.labels import label_mapping, prediction_from_probabilities


def test_named_classes_map_whatever_their_case_or_synonym() -> None:
    assert label_mapping("m", {0: "Bearish", 1: "Neutral", 2: "Bullish"}) == (
        "bearish",
        "neutral",
        "bullish",
    )
    assert label_mapping("m", {0: "negative", 1: "POSITIVE"}) == ("bearish", "bullish")


def test_generic_class_names_need_an_explicit_map() -> None:
    with pytest.raises(LabelMappingError, match="CRYPTOHUB_SENTIMENT_LABEL_MAP"):
        label_mapping("kk08/CryptoBERT", {0: "LABEL_0", 1: "LABEL_1"})
    mapped = label_mapping(
        "kk08/CryptoBERT",
        {0: "LABEL_0", 1: "LABEL_1"},
        {"LABEL_0": "bearish", "LABEL_1": "bullish"},
    )
    assert mapped == ("bearish", "bullish")


def test_a_model_without_both_polarities_is_refused() -> None:
    with pytest.raises(LabelMappingError, match="lack a bearish or a bullish"):
        label_mapping("m", {0: "positive", 1: "neutral"})


def test_unknown_class_name_is_refused_rather_than_guessed() -> None:
    with pytest.raises(LabelMappingError, match="'joy'"):
        label_mapping("emotions", {0: "negative", 1: "joy", 2: "positive"})


def test_prediction_takes_most_probable_label_and_bull_minus_bear_score() -> None:
    p = prediction_from_probabilities(("bearish", "neutral", "bullish"), [0.1, 0.2, 0.7])
    assert p.label == "bullish"
    assert p.score == pytest.approx(0.6)
    assert p.confidence == pytest.approx(0.7)
    assert p.probabilities == pytest.approx({"bearish": 0.1, "neutral": 0.2, "bullish": 0.7})


def test_two_class_model_reports_no_neutral_probability() -> None:
    p = prediction_from_probabilities(("bearish", "bullish"), [0.8, 0.2])
    assert p.label == "bearish"
    assert p.score == pytest.approx(-0.6)
    assert set(p.probabilities) == {"bearish", "bullish"}


def test_probabilities_stay_within_unit_interval_despite_float_rounding() -> None:
    p = prediction_from_probabilities(("bearish", "bullish"), [1.0000001, 0.0])
    assert all(0.0 <= v <= 1.0 for v in p.probabilities.values())
    assert -1.0 <= p.score <= 1.0
    assert math.isclose(sum(p.probabilities.values()), 1.0, abs_tol=1e-6)
