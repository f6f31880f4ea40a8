"""Where the bedroom nights lose their coughs: the counting rules, the room, the microphone, the
model's seed, or the truth?

Usage (from a clone, with the ``train`` extra):
    python benchmarks/night_conditions.py --run runs/default/run \
        [--model sensing/models/cough_snore.tflite] [--also OTHER_MODEL ...] [--nights 8] \
        [--out runs/night_conditions]

Builds ``sensing evaluate``'s bedroom nights from the run's real test clips (the generated
``synthetic:`` groups left out, as the model cards do; the same nights as ``sensing evaluate
--nights N`` with seed 0) and, on them, measures cough recall, precision and false coughs per
hour at several cough thresholds:

- as ``sensing evaluate`` does, with how many true coughs have a window at or above the cough
  threshold over them (what the model found before the counting rules), and the counting rules
  replayed with smaller rises than ``cough_rise_db``;
- on the same nights built without the room (direct sound only) and without the microphone
  response (flat), every other draw kept;
- against a truth that counts each cough onset as the detector's own counting rules find it in
  the dry clip (:func:`sensing.audio.events.count_coughs`; coughs within the truth's margin of the
  clip's loudest), instead of joining bursts less than 0.25 s apart;
- with ``--also``: the mean of the window scores of the model and each ``--also`` model (each
  must have been trained on the run's split, e.g. ``sensing train audio --seed 1 --split-seed 0``).

Prints the table and writes it to ``OUT/night_conditions.md``, and the trade-off curves to
``OUT/night_conditions.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.detect import default_event_settings
from sensing.audio.events import EventSettings, count_coughs
from sensing.audio.features import FeatureSettings, band_level_db, power_spectrum
from sensing.cli.options import positive_int
from sensing.errors import SensingError
from sensing.files import make_folder, write_atomically
from sensing.run_folder import RunFolder
from training.audio.bedroom_nights import EVENT_MARGIN_DB, Bedside, TrueEvent, build_night, cough_onsets
from training.audio.bedside_evaluation import (
    ScoredWindow,
    clips_by_label,
    detected_night,
    night_seed,
    threshold_curve,
)
from training.audio.default_model import SYNTHETIC_GROUP_PREFIX
from training.audio.evaluate import split_clips
from training.plots import plt, save_figure

THRESHOLDS = (0.8, 0.85, 0.9, 0.92, 0.94)
"""Cough window thresholds every row is scored at, beside the model's own."""

RISES_DB = (6.0, 4.0, 3.0)
"""Smaller cough rises than the default 8 dB the counting rules are replayed with (release half of it)."""

NIGHT_S = 1800.0
"""Length of each night in seconds (``sensing evaluate``'s default of 30 minutes)."""

Replayable = list[tuple[list[TrueEvent], list[ScoredWindow], float]]


def each_counted_onset(audio: np.ndarray, settings: FeatureSettings) -> list[tuple[float, float]]:
    """(start_s, end_s) of each cough of a dry cough clip as the detector's counting rules (their
    defaults in :class:`EventSettings`) find it in the clip's onset-band level, kept when it comes
    within :data:`EVENT_MARGIN_DB` of the clip's loudest frame; the truth's own bursts
    (:func:`cough_onsets`) when the rules find none (a clip too short or too even)."""
    rules = EventSettings(thresholds={})
    level = band_level_db(power_spectrum(audio, settings), settings)
    times = np.arange(level.size) * settings.hop_length / settings.sr
    coughs = count_coughs(
        times,
        level,
        rise_db=rules.cough_rise_db,
        release_db=rules.cough_release_db,
        separation_s=rules.cough_separation_s,
        frame_s=settings.n_fft / settings.sr,
    )
    top = float(level.max(initial=-200.0))
    kept = [
        (start, end)
        for start, end in coughs
        if level[(times >= start) & (times < end)].max(initial=-200.0) >= top - EVENT_MARGIN_DB
    ]
    return kept or cough_onsets(audio, settings)


def scored_nights(
    classifier: AudioClassifier, by_label: dict, *, nights: int, bedside: Bedside, out: Path
) -> Replayable:
    """``nights`` nights of 30 minutes built with ``bedside``, detected once: (truth, windows, seconds) each."""
    settings = classifier.metadata.features
    event_settings = default_event_settings(classifier)
    scored = []
    for index in range(nights):
        night = build_night(
            by_label, duration_s=NIGHT_S, seed=night_seed(0, index), settings=settings, bedside=bedside
        )
        _, windows = detected_night(
            classifier,
            night,
            event_settings=event_settings,
            folder=make_folder(out / f"night_{index}"),
            source={"bedroom_night": index},
        )
        scored.append((night.truth, windows, night.audio.size / night.sr))
        print(f"  night {index + 1}/{nights}", file=sys.stderr)
    return scored


def nights_truth(
    classifier: AudioClassifier, by_label: dict, nights: int, bedside: Bedside
) -> list[list[TrueEvent]]:
    """The truth of the nights :func:`scored_nights` builds with ``bedside``, without detecting
    them again (a truth told another way leaves a night's audio as it was)."""
    settings = classifier.metadata.features
    return [
        build_night(
            by_label, duration_s=NIGHT_S, seed=night_seed(0, index), settings=settings, bedside=bedside
        ).truth
        for index in range(nights)
    ]


def covered_coughs(scored: Replayable, threshold: float, window_s: float) -> tuple[int, int]:
    """(true coughs with a window at or above ``threshold`` starting within a window before
    them, true coughs)."""
    covered = total = 0
    for truth, windows, _ in scored:
        starts = np.array([start for start, _, _ in windows])
        scores = np.array([probabilities["cough"] for _, probabilities, _ in windows])
        for event in truth:
            if event.label == "cough":
                over = (starts <= event.start_s) & (starts + window_s > event.start_s)
                covered += bool(np.any(scores[over] >= threshold))
                total += 1
    return covered, total


def mean_scores(runs: list[Replayable]) -> Replayable:
    """The nights of the first run with each window's probabilities averaged over all runs.

    Raises:
        SensingError: the runs scored other windows (models of other window lengths or hops).
    """
    merged = []
    for nights in zip(*runs):
        truth, first, duration_s = nights[0]
        starts = [start for start, _, _ in first]
        if any([start for start, _, _ in other] != starts for _, other, _ in nights[1:]):
            raise SensingError("the models scored other windows; average models of the same window and hop")
        windows = [
            (
                start,
                {label: float(np.mean([n[1][i][1][label] for n in nights])) for label in probabilities},
                levels,
            )
            for i, (start, probabilities, levels) in enumerate(first)
        ]
        merged.append((truth, windows, duration_s))
    return merged


def table(rows: list[tuple[str, list[dict]]]) -> str:
    """Markdown: one line per (name, threshold) with recall, precision and false coughs per hour."""
    lines = [
        "| nights | cough threshold | recall | precision | false coughs per hour |",
        "|---|---|---|---|---|",
    ]
    for name, curve in rows:
        for row in curve:
            own = " (model's own)" if row["model_threshold"] else ""
            lines.append(
                f"| {name} | {row['threshold']:.3f}{own} | {row['cough_recall']} | "
                f"{row['cough_precision']} | {row['false_coughs_per_hour']} |"
            )
    return "\n".join(lines)


def plot_curves(rows: list[tuple[str, list[dict]]], path: Path) -> Path:
    """Cough recall against false coughs per hour, one line per row of the table (its thresholds
    as points, the model's own ringed): a row above another separates coughs better."""
    figure, axis = plt.subplots(figsize=(7.5, 4.5))
    for name, curve in rows:
        points = sorted(curve, key=lambda row: row["false_coughs_per_hour"])
        (line,) = axis.plot(
            [row["false_coughs_per_hour"] for row in points],
            [row["cough_recall"] for row in points],
            marker=".",
            label=name,
        )
        for row in points:
            if row["model_threshold"]:
                axis.plot(
                    row["false_coughs_per_hour"], row["cough_recall"], "o", mfc="none", color=line.get_color()
                )
    axis.set(
        xlabel="false coughs per hour", ylabel="cough recall", title="bedroom nights: what each change costs"
    )
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="lower right")
    return save_figure(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="finished audio run (its test groups)")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the run's)")
    parser.add_argument(
        "--also", type=Path, nargs="*", default=[], help="models whose scores are averaged in"
    )
    parser.add_argument("--nights", type=positive_int, default=8)
    parser.add_argument("--out", type=Path, default=Path("runs/night_conditions"))
    args = parser.parse_args()
    classifier = AudioClassifier(args.model or RunFolder(args.run).model)
    clips = split_clips(
        args.run,
        split="test",
        keep=lambda record: not record.group.startswith(SYNTHETIC_GROUP_PREFIX),
        sr=classifier.metadata.features.sr,
    )
    by_label = clips_by_label(clips)
    event_settings = default_event_settings(classifier)
    own = event_settings.thresholds["cough"]

    def nights(name: str, bedside: Bedside, model: AudioClassifier = classifier) -> Replayable:
        print(f"{name}:", file=sys.stderr)
        return scored_nights(model, by_label, nights=args.nights, bedside=bedside, out=args.out / name)

    def curve(scored: Replayable, settings=event_settings) -> list[dict]:
        return threshold_curve(classifier, settings, scored, "cough", thresholds=THRESHOLDS)

    full = nights("full", Bedside())
    covered, total = covered_coughs(full, own, classifier.metadata.features.window_s)
    rows = [(f"as sensing evaluate builds them ({total} true coughs)", curve(full))]
    for rise in RISES_DB:
        replayed = dataclasses.replace(event_settings, cough_rise_db=rise, cough_release_db=rise / 2)
        rows.append((f"counted with {rise:g} dB rises", curve(full, replayed)))
    rows.append(("without the room", curve(nights("dry", Bedside(room=False)))))
    rows.append(("without the microphone", curve(nights("flat", Bedside(microphone=False)))))
    onsets = [
        (retold, windows, duration_s)
        for retold, (_, windows, duration_s) in zip(
            nights_truth(classifier, by_label, args.nights, Bedside(cough_truth=each_counted_onset)), full
        )
    ]
    onset_coughs = sum(event.label == "cough" for truth, _, _ in onsets for event in truth)
    rows.append((f"truth: each counted onset ({onset_coughs} true coughs)", curve(onsets)))
    if args.also:
        others = []
        for index, path in enumerate(args.also):
            other = AudioClassifier(path)
            others.append(nights(f"also_{index}", Bedside(), model=other))
            rows.append(
                (
                    f"{path}",
                    threshold_curve(other, default_event_settings(other), others[-1], "cough", THRESHOLDS),
                )
            )
        rows.append(("mean of the models' scores", curve(mean_scores([full, *others]))))
    text = (
        f"{covered} of {total} true coughs have a window scored at or above the cough threshold "
        f"({own:.3f}) over their start.\n\n{table(rows)}\n"
    )
    write_atomically(make_folder(args.out) / "night_conditions.md", text)
    print(text)
    print(
        f"written: {args.out / 'night_conditions.md'}, {plot_curves(rows, args.out / 'night_conditions.png')}"
    )


if __name__ == "__main__":
    main()
