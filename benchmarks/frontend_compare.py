"""Mel against LEAF (exact and fast) on real clips: F1 and ROC AUC over seeds, frontend cost, model size.

Usage:
    python benchmarks/frontend_compare.py --data ../shared/data/audio/manifest.csv \\
        --out runs/frontend_compare [--seeds 0 1 2] [--epochs 6] [--windows-per-clip 1]

For each seed, trains a mel model and a LEAF model with the same CNN,
epochs, windows, augmentation and seed (the seed also draws the grouped
train / validation / test split, so each seed tests on other speakers and
recordings), and reads the test-group F1 and ROC AUC per target label of the
mel model and the exact LEAF model (from the run's ``metrics.json``), each with
thresholds calibrated on its validation groups, and of the fast LEAF model
(``model_fast.tflite`` through the runtime), whose thresholds are set so that it
decides as the exact model does; the share of test clips on which it does
comes from the run's ``metrics.json``. F1 at thresholds set for 1%
false positives moves in large steps on a few hundred test clips; ROC AUC
does not depend on a threshold. A finished run folder is reused, so an
interrupted benchmark continues where it stopped.

Frontend cost is the time to turn audio into the CNN's (windows, frames,
bands, 3) input (features, delta, delta-delta) as the runtime streams it (one
window every ``window_hop_frames``), on one thread, timed in turns and given
as the median milliseconds per second of audio: mel in numpy; fast LEAF as
numpy power spectra and the learned filterbank, sPCEN and deltas in TFLite;
exact LEAF as the whole learned frontend in TFLite. Prints Markdown for the
docs and writes ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from sensing.audio.streaming import StreamingWindows
from sensing.run_folder import CONFIG, KERAS_MODEL, METRICS, MODEL, RunFolder
from sensing.tflite.interpreter import load_interpreter
from training.audio.config import AudioTrainConfig
from training.audio.evaluate import evaluate_run
from training.audio.train import train_audio
from training.export import convert
from training.leaf.fast import build_fast_frontend
from training.leaf.frontend import features_model
from training.tf_setup import keras

FRONTENDS = ("mel", "leaf")


def run_folder(out: Path, frontend: str, seed: int) -> Path:
    return out / f"{frontend}_seed{seed}"


def train_or_reuse(config: AudioTrainConfig) -> dict:
    """The run's metrics, training it unless a finished run is already in its folder."""
    folder = Path(config.out)
    if (folder / CONFIG).is_file():
        recorded = RunFolder(folder).config()
        if recorded.get("status") == "finished" and (folder / METRICS).is_file():
            different = [
                key
                for key in ("data", "frontend", "epochs", "seed", "windows_per_clip")
                if recorded.get(key) != getattr(config, key)
            ]
            if different:
                raise SystemExit(
                    f"{folder} was trained with other {', '.join(different)}; "
                    f"choose another --out or delete it"
                )
            print(f"reusing {folder}", flush=True)
            return RunFolder(folder).metrics()
    print(f"training {folder}", flush=True)
    keras.backend.clear_session()
    metrics = train_audio(config)
    if metrics is None:
        raise SystemExit(f"{folder}: this process is not the chief worker; run the comparison alone")
    return metrics


def per_label(results: dict, negative_label: str | None, figure: str) -> dict[str, float]:
    """``figure`` (``f1``, ``roc_auc``) of each target label from one split's clip metrics."""
    return {
        label: values[figure] for label, values in results["per_class"].items() if label != negative_label
    }


def spread(values: list[float]) -> str:
    """Mean ± standard deviation over seeds, as the docs show it."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


class FrontendTimer:
    """One frontend's streaming cost: audio in, (frames, bands, 3) CNN input per window out."""

    def __init__(self, name: str, frontend: str, settings, tflite_path: Path | None) -> None:
        self.name = name
        self.frontend = frontend
        self.settings = settings
        self.interpreter = None
        if tflite_path is not None:
            self.interpreter, _ = load_interpreter(tflite_path, num_threads=1)
            self.input_index = self.interpreter.get_input_details()[0]["index"]
            self.output_index = self.interpreter.get_output_details()[0]["index"]

    def seconds_for(self, audio: np.ndarray) -> float:
        started = time.perf_counter()
        windows = StreamingWindows(self.settings, self.frontend)
        for offset in range(0, audio.size, self.settings.sr):
            for window in windows.push(audio[offset : offset + self.settings.sr]):
                if self.interpreter is not None:
                    self.interpreter.set_tensor(self.input_index, window.features[None])
                    self.interpreter.invoke()
                    self.interpreter.get_tensor(self.output_index)
        return time.perf_counter() - started


def frontend_costs(leaf_run: Path, out: Path, *, seconds: float, rounds: int) -> dict[str, float]:
    """Median milliseconds per second of audio of each frontend (see the module docstring)."""
    config = AudioTrainConfig.read(leaf_run / CONFIG)
    model = keras.models.load_model(leaf_run / KERAS_MODEL, compile=False)
    paths = {"exact": out / "frontend_leaf_exact.tflite", "fast": out / "frontend_leaf_fast.tflite"}
    deltas = model.get_layer("leaf_deltas")
    for name, frontend in (
        ("exact", features_model(model)),
        ("fast", build_fast_frontend(model, config.features)),
    ):
        paths[name].write_bytes(convert(keras.Model(frontend.input, deltas(frontend.output))))
    timers = [
        FrontendTimer("mel", "mel", config.features, None),
        FrontendTimer("LEAF, fast", "leaf-fast", config.features, paths["fast"]),
        FrontendTimer("LEAF, exact", "leaf", config.features, paths["exact"]),
    ]
    audio = (0.1 * np.random.default_rng(0).standard_normal(int(seconds * config.features.sr))).astype(
        np.float32
    )
    timings: dict[str, list[float]] = {timer.name: [] for timer in timers}
    for _ in range(rounds):
        for timer in timers:
            timings[timer.name].append(timer.seconds_for(audio) / seconds * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="manifest CSV of labelled clips")
    parser.add_argument("--out", type=Path, default=Path("runs/frontend_compare"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--windows-per-clip", type=int, default=1)
    parser.add_argument("--cost-seconds", type=float, default=60.0, help="audio timed per round")
    parser.add_argument("--cost-rounds", type=int, default=5)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    metrics = {}
    for seed in args.seeds:
        for frontend in FRONTENDS:
            config = AudioTrainConfig(
                data=str(args.data.resolve()),
                out=str(run_folder(args.out, frontend, seed)),
                frontend=frontend,
                epochs=args.epochs,
                seed=seed,
                windows_per_clip=args.windows_per_clip,
            )
            metrics[frontend, seed] = train_or_reuse(config)

    negative = metrics["mel", args.seeds[0]]["negative_label"]
    test = {
        "mel": [metrics["mel", s]["test"] for s in args.seeds],
        "LEAF, exact": [metrics["leaf", s]["test"] for s in args.seeds],
        "LEAF, fast": [
            evaluate_run(run_folder(args.out, "leaf", s), split="test", model_file="model_fast.tflite")
            for s in args.seeds
        ],
    }
    rows = {
        name: {figure: [per_label(r, negative, figure) for r in per_seed] for figure in ("f1", "roc_auc")}
        for name, per_seed in test.items()
    }
    correlations = [metrics["leaf", s]["leaf"]["feature_correlation"] for s in args.seeds]
    agreement = {
        thresholds: [
            metrics["leaf", s]["leaf"]["decisions_equal_to_exact"][thresholds]["test"] for s in args.seeds
        ]
        for thresholds in ("matched", "own_calibration")
    }
    costs = frontend_costs(
        run_folder(args.out, "leaf", args.seeds[0]),
        args.out,
        seconds=args.cost_seconds,
        rounds=args.cost_rounds,
    )
    first = args.seeds[0]
    sizes = {
        "mel": run_folder(args.out, "mel", first) / MODEL,
        "LEAF, exact": run_folder(args.out, "leaf", first) / MODEL,
        "LEAF, fast": run_folder(args.out, "leaf", first) / "model_fast.tflite",
    }
    labels = sorted(rows["mel"]["f1"][0])
    results = {
        "seeds": args.seeds,
        "epochs": args.epochs,
        "windows_per_clip": args.windows_per_clip,
        "test": rows,
        "feature_correlation": correlations,
        "test_decisions_fast_equal_to_exact": agreement,
        "frontend_ms_per_audio_second": costs,
        "model_bytes": {name: path.stat().st_size for name, path in sizes.items()},
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    print(
        f"\ntest-group F1 over seeds {args.seeds} ({args.epochs} epochs, "
        f"{args.windows_per_clip} window per clip per epoch):\n"
    )
    print(
        "| frontend | "
        + " | ".join(f"{label} F1" for label in labels)
        + " | "
        + " | ".join(f"{label} ROC AUC" for label in labels)
        + " | frontend ms per s of audio | cost vs mel | model KB |"
    )
    print("|---|" + "---|" * (2 * len(labels) + 3))
    for name, figures in rows.items():
        cells = [
            spread([per_seed[label] for per_seed in figures[figure]])
            for figure in ("f1", "roc_auc")
            for label in labels
        ]
        print(
            f"| {name} | " + " | ".join(cells) + f" | {costs[name]:.2f} | "
            f"{costs[name] / costs['mel']:.1f}x | {results['model_bytes'][name] / 1024:.0f} |"
        )
    print(
        f"\nexact-fast feature correlation on validation windows: {spread(correlations)} "
        f"(lowest {min(correlations):.4f})"
    )
    print(
        "test clips the fast LEAF model decides as the exact one does: "
        f"{spread(agreement['matched'])} with its matched thresholds (lowest {min(agreement['matched']):.4f}), "
        f"{spread(agreement['own_calibration'])} with thresholds calibrated on its own scores"
    )
    print(f"{results['minutes']} min in all")


if __name__ == "__main__":
    main()
