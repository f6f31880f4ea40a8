"""The models that ship with the toolkit, in ``sensing/models/`` (each with its model card there)."""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent / "models"

COUGH_SNORE = MODELS_DIR / "cough_snore.tflite"
"""The Raspberry Pi cough/snore classifier (``MODEL_CARD.md``)."""

COUGH_SNORE_MICRO = MODELS_DIR / "cough_snore_micro.tflite"
"""The int8 cough/snore classifier sized for microcontrollers (``MODEL_CARD_micro.md``)."""

SLEEP_RADAR = MODELS_DIR / "sleep_radar.tflite"
"""The radar sleep classifier (``MODEL_CARD_sleep.md``)."""
