"""``benchmarks/compare_evaluations.py``: models compared at the reference's false-cough rate."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO_ROOT

from training.audio.bedroom_nights import CURVE_FIGURES

SCRIPT = REPO_ROOT / "benchmarks" / "compare_evaluations.py"


def _curve(label, own, curve):
    recall, precision, rate = CURVE_FIGURES[label]
    return [
        {"threshold": t, "model_threshold": t == own[0], recall: r, precision: 0.8, rate: f}
        for t, r, f in sorted({*curve, own})
    ]


def _evaluation(folder, *, own, curve, snore=None):
    """An ``evaluation.json`` with the figures the comparison reads: ``own`` (threshold, recall,
    false coughs per hour) and the replayed ``curve`` of (threshold, recall, false per hour); the
    same for snoring as ``snore=(own, curve)`` (in minutes), or none (an older evaluation)."""
    folder.mkdir()
    levels = {
        level: {"cough_recall": 0.9, "snore_recall": 0.8, "false_positive_rate": rate}
        for level, rate in (("-6 dBFS", 0.02), ("-26 dBFS", 0.03), ("-46 dBFS", 0.01))
    }
    nights = {
        "totals": {
            "cough_recall": own[1],
            "cough_precision": 0.8,
            "false_coughs_per_hour": own[2],
            "detected_snore_minutes": 40.0,
        },
        "cough_threshold_curve": _curve("cough", own, curve),
    }
    if snore:
        snore_own, snore_curve = snore
        nights["totals"] |= {"snore_recall": snore_own[1], "false_snore_minutes_per_hour": snore_own[2]}
        nights["snore_threshold_curve"] = _curve("snore", snore_own, snore_curve)
    (folder / "evaluation.json").write_text(json.dumps({"level_sweep": {"levels": levels}, "nights": nights}))
    return folder


def _compare(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_recall_is_read_off_the_curve_at_the_references_false_rate(tmp_path):
    dense = _evaluation(tmp_path / "dense", own=(0.87, 0.70, 8.0), curve=[(0.8, 0.75, 12.0)])
    # the pruned model's own threshold lands at 4 false coughs per hour; at 8 it finds 0.65
    pruned = _evaluation(
        tmp_path / "pruned", own=(0.86, 0.55, 4.0), curve=[(0.8, 0.60, 6.0), (0.7, 0.70, 10.0)]
    )
    other = _evaluation(tmp_path / "other", own=(0.9, 0.50, 2.0), curve=[(0.5, 0.60, 20.0)])
    result = _compare(
        "--reference", "dense", "dense=" + str(dense), "p/a=" + str(pruned), "p/b=" + str(other)
    )
    assert result.returncode == 0, result.stderr
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")
        for line in result.stdout.splitlines()
        if line.startswith("| ")
    }
    assert rows["dense"][4] == "0.7"
    assert rows["p/a"][4] == "0.65"
    assert rows["p/b"][4] == "0.533"  # 0.50 at 2, 0.60 at 20: a third of the way at 8
    assert rows["p: mean (2)"][4] == "0.592 (0.533-0.65)"
    assert rows["dense"][-1].startswith("0.03")


def test_a_folder_without_nights_is_named(tmp_path):
    (tmp_path / "levels").mkdir()
    (tmp_path / "levels" / "evaluation.json").write_text(json.dumps({"level_sweep": {"levels": {}}}))
    result = _compare("--reference", "a", f"a={tmp_path / 'levels'}")
    assert (
        result.returncode == 1
        and result.stderr.strip() == "error: a: evaluated without --levels and --nights"
    )
    missing = _compare("--reference", "a", f"a={tmp_path / 'none'}")
    assert missing.returncode == 1 and "evaluation.json: not found" in missing.stderr


def test_snore_is_compared_in_time_where_the_evaluation_scored_it(tmp_path):
    dense = _evaluation(tmp_path / "dense", own=(0.87, 0.70, 8.0), curve=[], snore=((0.86, 0.89, 0.02), []))
    pruned = _evaluation(tmp_path / "pruned", own=(0.86, 0.55, 4.0), curve=[], snore=((0.8, 0.79, 0.05), []))
    older = _evaluation(tmp_path / "older", own=(0.9, 0.50, 2.0), curve=[])
    result = _compare("--reference", "dense", f"dense={dense}", f"p/a={pruned}", f"p/b={older}")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")
        for line in result.stdout.splitlines()
        if line.startswith("| ")
    }
    recall = rows["model"].index("snore recall (min)")
    assert (rows["dense"][recall], rows["p/a"][recall]) == ("0.89", "0.79")
    assert rows["p/b"][recall] == "-" and rows["p: mean (2)"][recall] == "-"  # one member not scored
    assert rows["p/a"][rows["model"].index("false snore min per h")] == "0.05"
