"""The bundled model: present, documented, readable without TensorFlow; and its rebuild recipe."""

import csv

from sensing.audio.model_file import read_metadata
from sensing.audio.night import DEFAULT_MODEL
from training.audio.default_model import SYNTHETIC_GROUP_PREFIX, combined_manifest


def test_bundled_model_has_labels_thresholds_and_a_model_card():
    metadata = read_metadata(DEFAULT_MODEL)
    assert metadata.labels == ("cough", "other", "snore")
    assert set(metadata.thresholds) == {"cough", "snore"}
    card = (DEFAULT_MODEL.parent / "MODEL_CARD.md").read_text()
    for needed in (
        "python -m training.audio.default_model",
        "Known limits",
        "licence",
        "recall",
        "sensing evaluate",
        "| -46 dBFS |",
        "Bedroom nights",
    ):
        assert needed in card
    assert metadata.features.level == "window-peak"  # gain-invariant features
    assert DEFAULT_MODEL.stat().st_size < 400_000


def test_combined_manifest_keeps_real_groups_and_marks_generated_ones(clip_set, tmp_path):
    manifest = combined_manifest(clip_set, tmp_path, seed=1, clips_per_label=4)
    with open(manifest, newline="") as handle:
        rows = list(csv.DictReader(handle))
    synthetic = [r for r in rows if r["group"].startswith(SYNTHETIC_GROUP_PREFIX)]
    assert len(rows) == 48 + 12 and len(synthetic) == 12
    assert {r["label"] for r in synthetic} == {"cough", "snore", "other"}
    assert all(r["category"].startswith("synthetic ") for r in synthetic)
    assert {r["source"] for r in synthetic} == {"synthetic"}  # --holdout source can leave them out


def test_bundled_micro_model_fits_the_microcontroller_targets(tmp_path):
    import json

    from conftest import run_cli

    from firmware_export.package import DEFAULT_MODEL as MICRO_MODEL
    from sensing.audio.classifier import AudioClassifier

    classifier = AudioClassifier(MICRO_MODEL)
    assert classifier.is_quantized and classifier.labels == ("cough", "other", "snore")
    card = (MICRO_MODEL.parent / "MODEL_CARD_micro.md").read_text()
    for needed in ("--micro", "TFLite Micro", "Known limits"):
        assert needed in card
    result = run_cli(
        ["export", "firmware", "--out", str(tmp_path / "package")], block=("tensorflow", "tf_keras")
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "package" / "size_report.json").read_text())
    assert report["model_bytes"] <= 64 * 1024
    assert report["arena_bytes_exported"] <= 64 * 1024
    assert report["micro_outputs_equal_litert"]
