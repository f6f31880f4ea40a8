"""Golden vectors: test clips' PCM with the features and int8 outputs the device must reproduce.

For each clip (a generated cough, snore and other sound), ``golden/`` holds

- ``NAME_golden_K.pcm``: 16-bit little-endian mono PCM at the model's rate;
- ``NAME_golden_K.features``: float32 model windows computed by
  :mod:`sensing.audio.features` from that PCM, ``(windows, frames, mels, 3)``, one
  window every ``window_hop_frames`` frames from the first frame, as the C
  frontend produces them;
- ``NAME_golden_K.output``: int8 model outputs ``(windows, labels)`` from
  ai-edge-litert's reference kernels for those features quantized with the
  model's input scale. TFLite Micro's kernels follow the same reference
  arithmetic, so its outputs must equal these bytes; ai-edge-litert's default
  (optimized, XNNPACK) int8 kernels round differently and may differ by 1.

``golden/manifest.json`` lists them with their shapes. ``NAME_frontend_check.c``
(host program, written beside) runs the C frontend on a ``.pcm`` file and
compares with the ``.features`` file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sensing.audio.features import FeatureSettings, log_mel, window_features
from sensing.files import make_folder, write_atomically
from sensing.synthetic.clips import generate_clip

GOLDEN_CLIPS = (("cough", 0), ("snore", 0), ("other", 1))
"""(label, index) of the generated clips written as golden vectors."""
GOLDEN_SEED = 7


def golden_pcm(label: str, index: int, sr: int) -> np.ndarray:
    """A generated clip as int16 PCM, at least two model windows long."""
    audio, _, _ = generate_clip(label, index, seed=GOLDEN_SEED, sr=sr)
    minimum = int(2.2 * sr)
    if audio.size < minimum:
        audio = np.pad(audio, (0, minimum - audio.size))
    return np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)


def device_windows(pcm: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """(windows, frames, mels, 3) float32 features of every window the C frontend emits."""
    values = log_mel(pcm.astype(np.float32) / 32768.0, settings)
    starts = range(0, values.shape[0] - settings.window_frames + 1, settings.window_hop_frames)
    return np.stack(
        [window_features(values[start : start + settings.window_frames], settings) for start in starts]
    ).astype(np.float32)


def quantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float values to int8 as TFLite does: round(x / scale) + zero_point, clamped."""
    return np.clip(np.round(values / scale) + zero_point, -128, 127).astype(np.int8)


def litert_outputs(model_path: Path, inputs: np.ndarray, *, reference: bool) -> np.ndarray:
    """Raw outputs of ``model_path`` in ai-edge-litert for each of ``inputs`` (its input dtype).

    Args:
        reference: use the reference kernels (as TFLite Micro does) instead of
            the default optimized ones.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kernels = OpResolverType.BUILTIN_REF if reference else OpResolverType.AUTO
    interpreter = Interpreter(model_path=str(model_path), experimental_op_resolver_type=kernels)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    outputs = []
    for item in inputs:
        interpreter.set_tensor(input_index, item[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_index)[0].copy())
    return np.stack(outputs)


def write_golden(
    model_path: Path,
    settings: FeatureSettings,
    *,
    input_scale: float,
    input_zero_point: int,
    out_dir: Path,
    name: str,
) -> dict:
    """Write the golden files into ``out_dir / "golden"``; returns the manifest written."""
    folder = out_dir / "golden"
    make_folder(folder)
    entries = []
    for number, (label, index) in enumerate(GOLDEN_CLIPS):
        pcm = golden_pcm(label, index, settings.sr)
        features = device_windows(pcm, settings)
        inputs = quantize(features, input_scale, input_zero_point)
        outputs = litert_outputs(model_path, inputs, reference=True)
        optimized = litert_outputs(model_path, inputs, reference=False)
        stem = f"{name}_golden_{number}"
        write_atomically(folder / f"{stem}.pcm", pcm.astype("<i2").tobytes())
        write_atomically(folder / f"{stem}.features", features.astype("<f4").tobytes())
        write_atomically(folder / f"{stem}.output", outputs.astype(np.int8).tobytes())
        entries.append(
            {
                "label": label,
                "pcm": f"{stem}.pcm",
                "samples": int(pcm.size),
                "features": f"{stem}.features",
                "features_shape": list(features.shape),
                "output": f"{stem}.output",
                "output_shape": list(outputs.shape),
                "optimized_kernels_largest_difference": int(
                    np.max(np.abs(optimized.astype(np.int16) - outputs.astype(np.int16)))
                ),
            }
        )
    manifest = {
        "sample_rate_hz": settings.sr,
        "pcm": "int16 little-endian mono",
        "features": "float32 little-endian, (windows, frames, mels, channels)",
        "output": "int8, (windows, labels), raw model output of ai-edge-litert's reference kernels",
        "clips": entries,
    }
    write_atomically(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest
