"""Accuracy on the bedside evaluation, size and speed of pruned audio models, against sparsity.

Usage:
    benchmarks/setup_qemu.sh          # once, optional: the emulated sparse/dense ratio
    python benchmarks/pruning_sweep.py --base runs/mel --out runs/pruning \\
        [--data ../shared/data/audio/manifest.csv] [--sparsities 0.7 0.8 0.9] \\
        [--nights 8] [--skip-groups synthetic:] [--distill 0.5]

For each sparsity, prunes the base run's model with ``sensing prune``'s defaults
(``--distill`` excepted; a finished sparsity folder with the same
settings is reused, so an interrupted sweep continues where it stopped; the base
run is trained first from ``--data`` if it does not exist yet), then measures
every model side by side:

- ``sensing evaluate`` on the base run's test groups (groups no model saw), for
  the dense base and each pruned model's shipped file: bedroom nights (cough
  recall, precision and false coughs per hour, snore minutes against the
  truth and the share of them found) and the level sweep (clip recall at -6
  and -46 dBFS, the highest false-positive rate); each evaluation is kept in ``OUT/.../evaluation`` and
  reused;
- file sizes, plain and gzipped, of the file a device would ship (the dense
  float32 base at sparsity 0, ``model_sparse.tflite`` above), plus the
  float16 sparse and int8 files;
- native latency on this machine (one thread; on x86 CPUs with AVX, XNNPACK's
  sparse kernels are off, so dense and sparse run the same kernels here);
- the dense/sparse time ratio of the same pruned weights under
  ``qemu-x86_64 -cpu Nehalem``, a CPU without AVX on which XNNPACK turns its
  sparse kernels on: a proxy for the work sparse inference saves on a
  Raspberry Pi, not a Pi measurement (absolute emulated times mean nothing).

Writes OUT/pruning_sweep.json, OUT/pruning_sweep.md (the table in docs/) and
``docs/pruning_sweep.png``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from sensing.cli.options import between, field_default
from sensing.run_folder import INT8_MODEL, MODEL, SPARSE_MODEL, RunFolder
from training.run_settings import AudioPruneSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
EMULATED_CPU = "Nehalem"


def _ensure_base(base: Path, data: Path | None) -> None:
    if RunFolder(base).finished():
        return
    if data is None:
        sys.exit(f"{base} is not a finished training run; give --data to train it first")
    from training.audio.config import AudioTrainConfig
    from training.audio.train import train_audio

    print(f"training the dense base model into {base}", file=sys.stderr)
    train_audio(AudioTrainConfig(data=str(data.resolve()), out=str(base)))


def _ensure_pruned(base: Path, run: Path, sparsity: float, distill: float) -> None:
    from training.audio.prune import prune_run
    from training.pruning import pruned_with

    settings = AudioPruneSettings(sparsity=sparsity, distill=distill)
    if pruned_with(run, base, settings):
        print(f"{run}: finished earlier, reused", file=sys.stderr)
        return
    print(f"pruning to {sparsity:.0%} into {run}", file=sys.stderr)
    prune_run(base, run, settings)


def _bedside(base: Path, model: Path, out: Path, *, nights: int, skip_groups: tuple[str, ...]) -> dict:
    """``sensing evaluate --levels --nights N`` of ``model`` on ``base``'s test groups, kept in ``out``
    (and reused while it is newer than ``model``)."""
    saved = out / "evaluation.json"
    if saved.is_file() and saved.stat().st_mtime > model.stat().st_mtime:  # not of an older model
        results = json.loads(saved.read_text())
        if (
            results.get("model") == str(model)
            and results.get("nights", {}).get("totals", {}).get("nights") == nights
            and results.get("skip_groups") == list(skip_groups)
        ):
            print(f"{out}: evaluated earlier, reused", file=sys.stderr)
            return results
    from training.audio.bedside_evaluation import evaluate

    print(f"evaluating {model} on {nights} nights and the level sweep", file=sys.stderr)
    return evaluate(base, out=out, model=model, nights=nights, levels=True, skip_groups=skip_groups)


def _sizes(path: Path) -> dict:
    content = path.read_bytes()
    return {"bytes": len(content), "gzip_bytes": len(gzip.compress(content, compresslevel=9))}


def _row(sparsity: float, run: Path, shipped: Path, bedside: dict) -> dict:
    from sensing.tflite.sparse_check import check_sparse

    metrics = RunFolder(run).metrics()
    nights = bedside["nights"]["totals"]
    levels = bedside["level_sweep"]["levels"]
    targets = [label for label in metrics["labels"] if label != metrics["negative_label"]]
    row = {
        "sparsity": sparsity,
        "run": str(run),
        "shipped_model": str(shipped),
        "measured_1x1_sparsity": metrics.get("sparsity_1x1", {}).get("overall", 0.0),
        "nights": {
            key: nights[key]
            for key in (
                "nights",
                "true_coughs",
                "cough_recall",
                "cough_precision",
                "false_coughs_per_hour",
                "true_snore_minutes",
                "detected_snore_minutes",
                "snore_recall",
            )
            if key in nights
        },
        "level_recall": {
            label: {level: levels[level][f"{label}_recall"] for level in levels} for label in targets
        },
        "level_max_false_positive_rate": max(levels[level]["false_positive_rate"] for level in levels),
        "size": _sizes(shipped),
        "xnnpack_sparse": check_sparse(shipped).sparse_ready,
    }
    for form, name in (("sparse_fp16", "model_sparse_fp16.tflite"), ("int8", INT8_MODEL)):
        if (run / name).is_file():
            row[f"size_{form}"] = _sizes(run / name)
    return row


def time_models(paths: list[str], *, rounds: int, invocations: int) -> list[float]:
    """Median ms per inference of each model, measured in turns on one thread."""
    from sensing.audio.bench import interleaved_latencies
    from sensing.audio.classifier import AudioClassifier

    classifiers = [AudioClassifier(path, num_threads=1) for path in paths]
    latencies = interleaved_latencies(classifiers, invocations=invocations, rounds=rounds, warmup=2)
    return [round(float(np.median(times)), 3) for times in latencies]


def _emulated_times(paths: list[str], *, rounds: int, invocations: int) -> list[float] | None:
    """Median ms per inference under ``qemu-x86_64 -cpu Nehalem``; None without qemu."""
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        print(
            "qemu-x86_64 not found: skipping the emulated ratio (benchmarks/setup_qemu.sh installs it)",
            file=sys.stderr,
        )
        return None
    command = [
        qemu,
        "-cpu",
        EMULATED_CPU,
        sys.executable,
        str(Path(__file__).resolve()),
        "--time-models",
        *paths,
        "--rounds",
        str(rounds),
        "--invocations",
        str(invocations),
    ]
    print(
        f"timing {len(paths)} models under qemu ({EMULATED_CPU}); this takes a few minutes", file=sys.stderr
    )
    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    if finished.returncode != 0:
        print(f"emulated timing failed:\n{finished.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def markdown(rows: list[dict], *, cpu: str) -> str:
    """The table in docs/."""
    labels = list(rows[0]["level_recall"])
    levels = list(rows[0]["level_recall"][labels[0]])
    loud, quiet = levels[0], levels[-1]
    header = [
        "sparsity (1x1)",
        "nights: cough recall / precision / false per h",
        f"nights: snore min (true {rows[0]['nights']['true_snore_minutes']:g}) / share found",
        *[f"{label} recall {loud} / {quiet}" for label in labels],
        "false positives (worst level)",
        "shipped file KB (gzip)",
        "fp16 / int8 KB",
        "XNNPACK sparse",
        f"native ms ({cpu})",
        "emulated dense/sparse",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        nights = row["nights"]
        small = " / ".join(
            f"{row[key]['bytes'] / 1024:.0f}" if key in row else "-"
            for key in ("size_sparse_fp16", "size_int8")
        )
        ratio = row.get("emulated_ratio")
        cells = [
            f"{row['sparsity']:.0%}"
            + (f" ({row['measured_1x1_sparsity']:.1%} measured)" if row["sparsity"] else " (dense base)"),
            (
                f"{_share(nights['cough_recall'])} / {_share(nights['cough_precision'])} / "
                f"{nights['false_coughs_per_hour']:g}"
            ),
            f"{nights['detected_snore_minutes']:g} / {_share(nights.get('snore_recall'))}",
            *[
                f"{_share(row['level_recall'][label][loud])} / {_share(row['level_recall'][label][quiet])}"
                for label in labels
            ],
            f"{row['level_max_false_positive_rate']:.1%}",
            f"{row['size']['bytes'] / 1024:.0f} ({row['size']['gzip_bytes'] / 1024:.0f})",
            small,
            "yes" if row["xnnpack_sparse"] else "no",
            f"{row['native_ms']:.3f}",
            "n/a" if ratio is None else f"{ratio:.2f}x",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sparsities = [100 * row["sparsity"] for row in rows]
    figure, (quality, speed) = plt.subplots(1, 2, figsize=(11, 4))
    quality.plot(
        sparsities, [row["nights"]["cough_recall"] for row in rows], marker="o", label="nights: cough recall"
    )
    quality.plot(
        sparsities,
        [row["nights"]["detected_snore_minutes"] / row["nights"]["true_snore_minutes"] for row in rows],
        marker="o",
        label="nights: snore minutes detected / true",
    )
    for label, recalls in rows[0]["level_recall"].items():
        quiet = list(recalls)[-1]
        quality.plot(
            sparsities,
            [row["level_recall"][label][quiet] for row in rows],
            marker="s",
            linestyle="--",
            label=f"{label} clip recall at {quiet}",
        )
    quality.set(
        xlabel="share of 1x1 weights pruned (%)", ylabel="recall", title="bedside accuracy", ylim=(0, 1.05)
    )
    quality.legend(fontsize=8)
    ratios = [row.get("emulated_ratio") for row in rows]
    if any(r is not None for r in ratios):
        speed.plot(
            sparsities,
            [np.nan if r is None else r for r in ratios],
            marker="o",
            color="tab:green",
            label="dense/sparse time, emulated CPU without AVX",
        )
    speed.set(xlabel="share of 1x1 weights pruned (%)", ylabel="speed-up (x)", title="speed and size")
    size_axis = speed.twinx()
    size_axis.plot(
        sparsities,
        [row["size"]["bytes"] / 1024 for row in rows],
        marker="s",
        color="tab:purple",
        label="shipped float file (KB)",
    )
    size_axis.set_ylabel("KB")
    lines = speed.get_legend_handles_labels()
    sizes = size_axis.get_legend_handles_labels()
    speed.legend(
        lines[0] + sizes[0],
        lines[1] + sizes[1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        fontsize=8,
        ncol=2,
    )
    for axis in (quality, speed):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _cpu() -> str:
    import platform

    return f"{platform.machine()}, 1 thread"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=Path("runs/mel"), help="dense training run")
    parser.add_argument("--out", type=Path, default=Path("runs/pruning"), help="sweep folder")
    parser.add_argument("--data", type=Path, help="clips to train the base run on if it is missing")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.7, 0.8, 0.9])
    parser.add_argument(
        "--distill",
        type=between(0, 1),
        default=field_default(AudioPruneSettings, "distill"),
        help="sensing prune --distill for every sparsity (default: sensing prune's, %(default)s)",
    )
    parser.add_argument("--nights", type=int, default=8, help="bedroom nights per model (sensing evaluate)")
    parser.add_argument(
        "--skip-groups",
        action="append",
        default=[],
        metavar="PREFIX",
        help="leave out test clips whose group starts with PREFIX (repeatable; as sensing evaluate)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="timing rounds (models in turn)")
    parser.add_argument("--invocations", type=int, default=300, help="native timings per model")
    parser.add_argument(
        "--emulated-invocations", type=int, default=40, help="timings per model under emulation"
    )
    parser.add_argument(
        "--replot",
        action="store_true",
        help="redraw the table and plot from OUT/pruning_sweep.json, measuring nothing",
    )
    parser.add_argument("--time-models", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_models:  # child mode, run under qemu
        print(json.dumps(time_models(args.time_models, rounds=args.rounds, invocations=args.invocations)))
        return

    if args.replot:
        rows = json.loads((args.out / "pruning_sweep.json").read_text())
        print(markdown(rows, cpu=_cpu()))
        plot(rows, REPO_ROOT / "docs" / "pruning_sweep.png")
        return

    _ensure_base(args.base, args.data)
    runs = {}
    for sparsity in args.sparsities:
        run = args.out / f"sparsity_{round(sparsity * 100):02d}"
        _ensure_pruned(args.base, run, sparsity, args.distill)
        runs[sparsity] = run

    skip = tuple(args.skip_groups)
    dense = args.base.resolve() / MODEL
    rows = [
        _row(
            0.0,
            args.base,
            dense,
            _bedside(args.base, dense, args.out / "dense_evaluation", nights=args.nights, skip_groups=skip),
        )
    ]
    for sparsity, run in sorted(runs.items()):
        shipped = run.resolve() / SPARSE_MODEL
        bedside = _bedside(args.base, shipped, run / "evaluation", nights=args.nights, skip_groups=skip)
        rows.append(_row(sparsity, run, shipped, bedside))
    runs = {sparsity: run.resolve() for sparsity, run in sorted(runs.items())}
    native = time_models(
        [row["shipped_model"] for row in rows], rounds=args.rounds, invocations=args.invocations
    )
    for row, ms in zip(rows, native):
        row["native_ms"] = ms
    pairs = [str(run / name) for run in runs.values() for name in (MODEL, SPARSE_MODEL)]
    emulated = _emulated_times(pairs, rounds=args.rounds, invocations=args.emulated_invocations)
    rows[0]["emulated_ratio"] = None
    for index, row in enumerate(rows[1:]):
        if emulated is not None:
            dense_ms, sparse_ms = emulated[2 * index], emulated[2 * index + 1]
            row["emulated_ms"] = {"dense_stored": dense_ms, "sparse": sparse_ms}
            row["emulated_ratio"] = round(dense_ms / sparse_ms, 2)
        else:
            row["emulated_ratio"] = None

    cpu = _cpu()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pruning_sweep.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = markdown(rows, cpu=cpu)
    (args.out / "pruning_sweep.md").write_text(table + "\n")
    plot(rows, REPO_ROOT / "docs" / "pruning_sweep.png")
    print(table)
    print(f"\nplot: {REPO_ROOT / 'docs' / 'pruning_sweep.png'}")


if __name__ == "__main__":
    main()
