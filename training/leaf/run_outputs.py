"""What a ``--frontend leaf`` training run writes besides the exact model.

- ``model_fast.tflite``: the fast frontend's classifier (power spectrum in),
  with thresholds set on the same validation groups so that it decides as the exact model does
  (:mod:`training.audio.agreement`).
- ``leaf_filters.json`` and ``leaf_filters.png``: the learned filters.
- In ``metrics.json`` under ``leaf``: the correlation between the exact and
  fast frontends' features on the first validation windows, the share of validation and test
  clips both models decide alike (with the matched thresholds, and with thresholds the fast model
  calibrates on its own), and F1 per label of both models on validation and test groups.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sensing.audio.features import FeatureSettings
from sensing.audio.model_file import ModelMetadata
from sensing.files import write_atomically
from training.audio.agreement import matching_thresholds
from training.audio.config import AudioTrainConfig
from training.audio.evaluation_set import EvaluationSet
from training.audio.metrics import clip_metrics, decision_agreement
from training.audio.run_data import RunData, decisions, evaluate_model
from training.export import export_tflite
from training.leaf.fast import build_fast_classifier, build_fast_frontend
from training.leaf.filters import filter_responses, learned_filters, plot_filters
from training.leaf.frontend import features_model
from training.tf_setup import keras

CORRELATION_WINDOWS = 4096
"""Validation windows (the first clips') on which exact and fast features are compared."""


def feature_correlation(
    classifier: keras.Model, settings: FeatureSettings, audio: np.ndarray, power: np.ndarray
) -> float:
    """Pearson correlation of all exact and fast frontend feature values over the same windows.

    Args:
        classifier: the trained exact classifier.
        audio: (windows, window_samples) inputs of the exact frontend.
        power: (windows, frames, bins) inputs of the fast one, for the same windows.
    """
    exact_features = features_model(classifier).predict(audio, batch_size=64, verbose=0)
    fast_features = build_fast_frontend(classifier, settings).predict(power, batch_size=256, verbose=0)
    return float(np.corrcoef(exact_features.ravel(), fast_features.ravel())[0, 1])


def target_f1(results: dict, negative_label: str | None) -> dict[str, float]:
    """F1 per target label from one split's clip metrics."""
    return {
        label: figures["f1"] for label, figures in results["per_class"].items() if label != negative_label
    }


def finish_leaf_run(
    model: keras.Model,
    data: RunData,
    config: AudioTrainConfig,
    *,
    exact_results: dict,
    exact_scores: dict[str, np.ndarray],
    metadata: ModelMetadata,
) -> dict:
    """Export the fast model, measure it against the exact one, save the learned filters.

    The fast model's thresholds make it decide as the exact model does on the validation clips
    (:mod:`training.audio.agreement`); how often it does on the test clips is measured, beside how
    often it would with thresholds calibrated on its own scores for the target false-positive rate.

    Args:
        model: the trained exact classifier (raw audio in).
        exact_results: its ``{"validation": ..., "test": ...}`` clip metrics.
        exact_scores: its ``{"validation": ..., "test": ...}`` (clips, labels) clip scores.
        metadata: the exact model's metadata; the fast model's differs in frontend and thresholds.

    Returns:
        The ``leaf`` entry of ``metrics.json``.
    """
    out = Path(config.out)
    labels, negative_label = data.labels, data.negative_label
    fast = build_fast_classifier(model, config.features)
    validation = EvaluationSet(
        data.source, data.splits["validation"], "validation (fast frontend)", frontend="leaf-fast"
    )
    test = EvaluationSet(data.source, data.splits["test"], "test (fast frontend)", frontend="leaf-fast")
    own_thresholds, _, fast_scores = evaluate_model(
        fast, validation, test, labels=labels, negative_label=negative_label, target_fpr=config.target_fpr
    )
    thresholds = matching_thresholds(
        fast_scores["validation"], exact_scores["validation"], metadata.thresholds, labels
    )
    agreement: dict[str, dict[str, float]] = {"matched": {}, "own_calibration": {}}
    f1: dict[str, dict] = {}
    for name, evaluation in (("validation", validation), ("test", test)):
        exact_decisions = decisions(exact_scores[name], labels, metadata.thresholds, negative_label)
        fast_decisions = decisions(fast_scores[name], labels, thresholds, negative_label)
        own_decisions = decisions(fast_scores[name], labels, own_thresholds, negative_label)
        agreement["matched"][name] = decision_agreement(fast_decisions, exact_decisions)
        agreement["own_calibration"][name] = decision_agreement(own_decisions, exact_decisions)
        f1[name] = {
            "exact": target_f1(exact_results[name], negative_label),
            "fast": target_f1(
                clip_metrics(
                    labels=labels,
                    true=evaluation.true,
                    predicted=fast_decisions,
                    scores=fast_scores[name],
                    negative_label=negative_label,
                    categories=evaluation.categories,
                    durations_s=evaluation.durations_s,
                ),
                negative_label,
            ),
        }
    fast_metadata = ModelMetadata(
        labels=metadata.labels,
        negative_label=metadata.negative_label,
        thresholds=thresholds,
        features=metadata.features,
        frontend="leaf-fast",
        extra=metadata.extra,
    )
    export_tflite(fast, out / "model_fast.tflite", fast_metadata)

    summary = learned_filters(model, config.features)
    write_atomically(out / "leaf_filters.json", json.dumps(summary, indent=2) + "\n")
    plot_filters(summary, *filter_responses(model, config.features), out / "leaf_filters.png")
    exact_inputs = data.validation.first_inputs(CORRELATION_WINDOWS)
    correlation = feature_correlation(
        model, config.features, exact_inputs, validation.first_inputs(CORRELATION_WINDOWS)
    )
    print(
        f"fast frontend: feature correlation with the exact one {correlation:.4f} on "
        f"{len(exact_inputs)} validation windows; decisions equal to the exact model's on "
        f"{agreement['matched']['test']:.1%} of test clips",
        flush=True,
    )
    return {
        "fast_model": "model_fast.tflite",
        "feature_correlation": round(correlation, 5),
        "decisions_equal_to_exact": agreement,
        "f1": f1,
        "fast_thresholds": thresholds,
        "fast_thresholds_own_calibration": own_thresholds,
    }
