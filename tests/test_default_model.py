"""The bundled model: present, documented, readable without TensorFlow; and its rebuild recipe."""

import csv

from sensing.model_file import read_metadata
from sensing.night import DEFAULT_MODEL
from training.default_model import SYNTHETIC_GROUP_PREFIX, combined_manifest


def test_bundled_model_has_labels_thresholds_and_a_model_card():
    metadata = read_metadata(DEFAULT_MODEL)
    assert metadata.labels == ("cough", "other", "snore")
    assert set(metadata.thresholds) == {"cough", "snore"}
    card = (DEFAULT_MODEL.parent / "MODEL_CARD.md").read_text()
    for needed in ("python -m training.default_model", "Known limits", "licence", "recall"):
        assert needed in card
    assert DEFAULT_MODEL.stat().st_size < 400_000


def test_combined_manifest_keeps_real_groups_and_marks_generated_ones(clip_set, tmp_path):
    manifest = combined_manifest(clip_set, tmp_path, seed=1, clips_per_label=4)
    with open(manifest, newline="") as handle:
        rows = list(csv.DictReader(handle))
    synthetic = [r for r in rows if r["group"].startswith(SYNTHETIC_GROUP_PREFIX)]
    assert len(rows) == 48 + 12 and len(synthetic) == 12
    assert {r["label"] for r in synthetic} == {"cough", "snore", "other"}
    assert all(r["category"].startswith("synthetic ") for r in synthetic)
