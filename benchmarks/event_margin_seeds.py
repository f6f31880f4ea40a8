"""Does the training margin of positive windows change bedside accuracy, or only the training seed?

Usage (from a clone, with the ``train`` extra and ``../shared/data`` beside it):
    python benchmarks/event_margin_seeds.py --seed 1 --margins 12 6 [--epochs 30]
        [--data ../shared/data/audio/manifest.csv] [--cache runs/feature-cache] [--out runs/margins]

For each margin (dB below a positive clip's loudest frame that a training window's loudest frame
may be: ``AugmentSettings.event_margin_db``) trains the bundled model's recipe (the real manifest
plus the generated clips, :func:`training.audio.default_model.combined_manifest`) with ``--seed``,
which also sets the split, the generated clips and the weights, so every margin shares one split;
then runs ``sensing evaluate``'s level sweep and 8 bedroom nights on each run's own test groups,
the generated clips left out. A finished run is reused. Figures: ``OUT/seedS_mM/evaluation``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sensing.run_folder import RunFolder
from training.audio.bedside_evaluation import evaluate
from training.audio.config import AudioTrainConfig
from training.audio.default_model import BEDROOM_NIGHTS, SYNTHETIC_GROUP_PREFIX, combined_manifest
from training.audio.evaluation_report import tables_markdown
from training.audio.train import train_audio
from training.audio.windows import AugmentSettings
from training.scale import ScaleSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/audio/manifest.csv"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--margins", type=float, nargs="+", default=[12.0, 6.0], help="dB")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--cache", default="runs/feature-cache", help="feature cache folder")
    parser.add_argument("--out", type=Path, default=Path("runs/margins"))
    args = parser.parse_args()
    for margin in args.margins:
        out = args.out / f"seed{args.seed}_m{margin:g}"
        run = out / "run"
        if not RunFolder(run).finished():
            out.mkdir(parents=True, exist_ok=True)
            manifest = combined_manifest(args.data, out, seed=args.seed)
            config = AudioTrainConfig(
                data=str(manifest),
                out=str(run),
                epochs=args.epochs,
                seed=args.seed,
                augment=AugmentSettings(event_margin_db=margin),
            )
            train_audio(config, ScaleSettings(cache=args.cache))
        results = evaluate(
            run,
            out=out / "evaluation",
            nights=BEDROOM_NIGHTS,
            levels=True,
            skip_groups=(SYNTHETIC_GROUP_PREFIX,),
        )
        print(f"\n## margin {margin:g} dB, seed {args.seed}\n\n{tables_markdown(results)}")


if __name__ == "__main__":
    main()
