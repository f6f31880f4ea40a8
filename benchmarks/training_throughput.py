"""Training throughput: clips per second with and without the feature cache, on one or two workers.

Usage:
    python benchmarks/training_throughput.py [--data MANIFEST] [--out runs/throughput] \\
        [--epochs 4] [--batch-size 64]

Without ``--data`` it generates a clip set (20 clips per label). Each setting
is a real ``sensing train audio`` run in its own process:

- no cache: every epoch decodes, resamples and computes features again;
- cache: features read from the feature cache (filled beforehand by a
  one-epoch run that is not timed);
- mirrored: the cache, and MirroredStrategy over two logical CPU devices
  (over the GPUs where there are some);
- 2 workers: the cache, and MultiWorkerMirroredStrategy in two processes on
  this machine talking over loopback (``TF_CONFIG``).

With several replicas each takes ``--batch-size`` windows per step, so a
step covers more clips. Throughput is training clips (each giving
``windows_per_clip`` windows) per second of training, validation excluded
(``train_seconds`` in each run's ``metrics.json``); the first epoch (graph
tracing) is left out and the median of the other epochs is reported. The
input pipeline alone (windows per second out of ``tf.data``, no model) is
measured with and without the cache too. Prints Markdown for the docs and
writes ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sensing.run_folder import RunFolder
from sensing.synthetic.clips import make_clip_set
from training.distribute import loopback_tf_configs

REPO_ROOT = Path(__file__).resolve().parents[1]


def train(
    data: Path, out: Path, options: list[str], *, epochs: int, batch_size: int, workers: int = 1
) -> dict:
    """Run ``sensing train audio`` (in ``workers`` processes); returns the run's metrics and log."""
    command = [
        sys.executable,
        "-m",
        "sensing",
        "train",
        "audio",
        "--data",
        str(data),
        "--out",
        str(out),
        "--epochs",
        str(epochs),
        "--batch-size",
        str(batch_size),
        *options,
    ]
    environments = [dict(os.environ)]
    if workers > 1:
        environments = [{**os.environ, "TF_CONFIG": value} for value in loopback_tf_configs(workers)]
    print(f"$ {' '.join(command[1:])}" + (f"  (x{workers} workers)" if workers > 1 else ""), flush=True)
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for env in environments
    ]
    logs = [process.communicate()[0] for process in processes]
    for process, log in zip(processes, logs):
        if process.returncode != 0:
            raise SystemExit(f"training failed:\n{log[-3000:]}")
    metrics = RunFolder(out).metrics()
    config = RunFolder(out).config()
    return {"metrics": metrics, "config": config, "log": logs[0], "wall_seconds": time.monotonic() - started}


def throughput(run: dict) -> dict:
    """Clips and windows per second of training, median over epochs after the first."""
    metrics, config = run["metrics"], run["config"]
    clips = metrics["splits"]["train"]["clips"]
    seconds = [entry["train_seconds"] for entry in metrics["history"][1:]]
    median = statistics.median(seconds)
    scan = re.search(r"decoding clips: \d+/\d+ in ([0-9.]+) s", run["log"])
    return {
        "clips_per_second": round(clips / median, 1),
        "windows_per_second": round(clips * config["windows_per_clip"] / median, 1),
        "epoch_train_seconds": seconds,
        "train_clips": clips,
        "replicas": config["replicas"],
        "workers": config["workers"],
        "scan_seconds": float(scan.group(1)) if scan else None,
        "wall_seconds": round(run["wall_seconds"], 1),
    }


def pipeline_only(data: Path, out: Path, cache: Path | None, *, batch_size: int, epochs: int = 2) -> dict:
    """Windows per second out of the training ``tf.data`` pipeline alone (no model), median over epochs."""
    code = f"""
import json, statistics, time
from pathlib import Path
from training.audio.config import AudioTrainConfig
from training.audio.run_data import load_run_data
from training.tf_setup import tf
config = AudioTrainConfig(data={str(data)!r}, out={str(out)!r}, batch_size={batch_size})
Path(config.out).mkdir(parents=True, exist_ok=True)
data = load_run_data(config, Path(config.out), cache={None if cache is None else str(cache)!r})
rates = []
for epoch in range({epochs}):
    started = time.monotonic()
    windows = sum(len(batch[1]) for batch in data.windows.dataset(epoch, tf.distribute.InputContext()))
    rates.append(windows / (time.monotonic() - started))
print(json.dumps({{"windows_per_second": round(statistics.median(rates), 1), "per_epoch": rates}}))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"pipeline measurement failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="manifest CSV (default: generated clips)")
    parser.add_argument("--out", type=Path, default=Path("runs/throughput"))
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run; the first is not counted")
    parser.add_argument("--batch-size", type=int, default=64, help="windows per replica per step")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not counted)")
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.data.resolve() if args.data else make_clip_set(args.out / "clips", clips_per_label=20, seed=1)
    cache = (args.out / "cache").resolve()

    results = {
        "data": str(data),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "runs": {},
    }
    results["pipeline_only"] = {
        "no cache": pipeline_only(data, args.out / "pipeline", None, batch_size=args.batch_size)
    }
    train(data, args.out / "fill_cache", ["--cache", str(cache)], epochs=1, batch_size=args.batch_size)
    results["pipeline_only"]["cache"] = pipeline_only(
        data, args.out / "pipeline", cache, batch_size=args.batch_size
    )
    settings = {
        "no cache": ([], 1),
        "cache": (["--cache", str(cache)], 1),
        "cache, mirrored (2 devices)": (["--cache", str(cache), "--distribute", "mirrored"], 1),
        "cache, 2 workers (loopback)": (["--cache", str(cache), "--distribute", "multiworker"], 2),
    }
    for name, (options, workers) in settings.items():
        folder = args.out / re.sub(r"[^a-z0-9]+", "_", name).strip("_")
        run = train(data, folder, options, epochs=args.epochs, batch_size=args.batch_size, workers=workers)
        results["runs"][name] = throughput(run)
        print(f"{name}: {results['runs'][name]['clips_per_second']} clips/s", flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    base = results["runs"]["cache"]["clips_per_second"]
    print(
        f"\n{results['machine']}; {args.batch_size} windows per replica per step; median of epochs "
        f"2-{args.epochs}\n"
    )
    print("| setting | replicas | training clips/s | windows/s | vs cache, 1 worker |")
    print("|---|---|---|---|---|")
    for name, figures in results["runs"].items():
        print(
            f"| {name} | {figures['replicas']} | {figures['clips_per_second']} | "
            f"{figures['windows_per_second']} | {figures['clips_per_second'] / base:.2f}x |"
        )
    pipeline = results["pipeline_only"]
    print(
        f"\ninput pipeline alone: {pipeline['no cache']['windows_per_second']} windows/s without the "
        f"cache, {pipeline['cache']['windows_per_second']} with it"
    )


if __name__ == "__main__":
    main()
