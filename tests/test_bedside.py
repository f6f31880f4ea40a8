"""What a bedside microphone does to sound: the augmentation banks, the TensorFlow augmentation,
and the bedroom nights and scoring behind ``sensing evaluate``."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from sensing.audio.clips import ClipRecord
from sensing.audio.features import (
    FeatureSettings,
    level_normalised,
    log_mel,
)
from sensing.synthetic import sounds as synth
from sensing.tflite.sparse_check import check_sparse
from training.audio.augment import (
    BedsideBanks,
    bedside_power,
    reverberated,
    through_mic,
)
from training.audio.augment import level_normalised as tf_level_normalised
from training.audio.bedroom_nights import (
    Bedside,
    TrueEvent,
    build_night,
    cough_onsets,
    night_totals,
    score_night,
)
from training.audio.bedside import mic_gain_db, octaves_from_1khz, room_impulse_response
from training.audio.dataset import LoadedClip
from training.audio.windows import AugmentSettings
from training.tf_setup import tf

SETTINGS = FeatureSettings()


@pytest.fixture(scope="module")
def banks():
    return BedsideBanks.build(SETTINGS, AugmentSettings(rooms=3), seed=0)


def test_simulated_rooms_decay_at_their_reverberation_time():
    import pyroomacoustics as pra

    rir, room = room_impulse_response(np.random.default_rng(1), sr=16000)
    assert 0.2 <= room["rt60_s"] <= 0.8 and 0.5 <= room["distance_m"] <= 3.0
    measured = pra.experimental.measure_rt60(rir, fs=16000, decay_db=30)
    assert measured == pytest.approx(room["rt60_s"], rel=0.35)


def test_room_kernels_smear_power_over_time_and_keep_the_level(banks):
    assert banks.rooms.shape == (3, AugmentSettings().room_taps, SETTINGS.n_mels)
    assert np.mean(np.sum(banks.rooms, axis=1)) == pytest.approx(1.0, rel=1e-4)
    click = np.zeros((SETTINGS.window_frames, SETTINGS.n_mels), dtype=np.float32)
    click[10] = 1.0
    wet = reverberated(
        tf.constant(click), tf.constant(banks.rooms[:1]), tf.constant([0, 0], tf.int64)
    ).numpy()
    assert np.all(wet[:10] == 0)  # causal: nothing before the sound
    np.testing.assert_allclose(
        wet[10 : 10 + banks.rooms.shape[1]],
        banks.rooms[0][: SETTINGS.window_frames - 10],
        rtol=1e-5,
        atol=1e-9,
    )


def test_microphone_gain_is_the_same_formula_in_numpy_and_tensorflow(banks):
    octaves = octaves_from_1khz(np.array([100.0, 1000.0, 6000.0]))
    gain = mic_gain_db(octaves, np.log2(0.2), np.log2(4.0), 2.0)
    # 100 Hz: 1 octave below a 200 Hz roll-off (-12 dB) plus -3.32 octaves of +2 dB/octave tilt
    np.testing.assert_allclose(gain, [-12.0 - 2 * 3.3219, 0.0, 2 * 2.585 - 24 * 0.585], atol=1e-2)
    ones = np.ones((4, SETTINGS.n_mels), dtype=np.float32)
    coloured = through_mic(
        tf.constant(ones), tf.constant(banks.octaves), tf.constant([1, 2], tf.int64)
    ).numpy()
    assert np.all(coloured > 0) and coloured[:, -1].max() < 1.0  # the top band is rolled off


def test_tensorflow_level_normalisation_equals_the_runtime_one():
    values = log_mel(synth.noise(np.random.default_rng(0), duration_s=1.0, color="pink"), SETTINGS)[:96]
    np.testing.assert_allclose(
        tf_level_normalised(tf.constant(values), SETTINGS).numpy(),
        level_normalised(values, SETTINGS),
        atol=1e-6,
    )


def test_bedside_window_keeps_the_event_above_the_noise_floor(banks):
    augment = AugmentSettings(
        reverb_probability=0.0,
        mic_probability=0.0,
        noise_floor_probability=1.0,
        noise_floor_snr_db=(20.0, 20.0),
        gain_db=(0.0, 0.0),
    )
    event = np.full((SETTINGS.window_frames, SETTINGS.n_mels), 1e-3, dtype=np.float32)
    seed = tf.constant([3, 4], tf.int64)
    out = bedside_power(
        tf.constant(event), None, seed, negative=tf.constant(False), banks=banks, augment=augment
    ).numpy()
    added = out - event
    assert np.mean(added) == pytest.approx(np.mean(event) * 10 ** (-20 / 10), rel=1e-3)
    alone = dataclasses.replace(augment, floor_alone_probability=1.0)
    floor = bedside_power(
        tf.constant(event), None, seed, negative=tf.constant(True), banks=banks, augment=alone
    ).numpy()
    np.testing.assert_allclose(floor, added, rtol=1e-3, atol=1e-12)  # the same floor, without the window
    kept = bedside_power(
        tf.constant(event), None, seed, negative=tf.constant(False), banks=banks, augment=alone
    ).numpy()
    np.testing.assert_allclose(kept, out)  # a cough or snore window is never replaced


def _clip(label: str, audio: np.ndarray, index: int) -> LoadedClip:
    return LoadedClip(
        ClipRecord(path=Path(f"/{label}{index}.wav"), label=label, group=f"g{index}", category=label),
        audio.astype(np.float32),
    )


def test_cough_onsets_find_each_burst_of_a_clip():
    rng = np.random.default_rng(0)
    speaker = synth.random_speaker(rng)
    gap = np.zeros(8000, dtype=np.float32)
    one = synth.cough(rng, speaker=speaker, n_coughs=1)
    clip = (
        np.concatenate([gap, one, gap, one * 0.8, gap]) + rng.standard_normal(3 * 8000 + 2 * one.size) * 1e-4
    )
    onsets = cough_onsets(clip.astype(np.float32), SETTINGS)
    assert len(onsets) == 2
    assert onsets[0][0] == pytest.approx(0.5, abs=0.05)
    assert onsets[1][0] == pytest.approx(1.0 + one.size / 16000, abs=0.05)


def test_a_bedroom_night_has_its_sounds_at_bedside_levels():
    rng = np.random.default_rng(2)
    speaker = synth.random_speaker(rng)
    clips = {
        "cough": [_clip("cough", synth.cough(rng, speaker=speaker, n_coughs=1), i) for i in range(3)],
        "snore": [_clip("snore", synth.snore(rng, speaker=speaker), i) for i in range(3)],
        "other": [_clip("other", synth.negative(rng, kind="knock", duration_s=1.0), i) for i in range(3)],
    }
    night = build_night(clips, duration_s=300.0, seed=0, settings=SETTINGS)
    assert night.audio.shape == (300 * 16000,) and np.max(np.abs(night.audio)) <= 1.0
    coughs = [e for e in night.truth if e.label == "cough"]
    snores = [e for e in night.truth if e.label == "snore"]
    assert len(coughs) == 2 and len(snores) == 1 and all(5 <= e.snr_db <= 25 for e in coughs + snores)
    assert snores[0].end_s - snores[0].start_s >= 55
    floor = night.audio[: int(1.5 * 16000)]  # before the first sound (GAP_S is 2 s)
    floor_db = 10 * np.log10(np.mean(np.square(floor, dtype=np.float64)))
    assert -62 <= floor_db <= -35  # -55..-40 dBFS, through a microphone response of a few dB

    # the same night without its room: the same sounds at the same times and levels, dry
    dry = build_night(clips, duration_s=300.0, seed=0, settings=SETTINGS, bedside=Bedside(room=False))
    assert dry.truth == night.truth and dry.conditions["room"]["rt60_s"] == 0.0
    np.testing.assert_array_equal(dry.audio[: int(1.5 * 16000)], night.audio[: int(1.5 * 16000)])  # the floor
    cough = slice(int(coughs[0].start_s * 16000), int((coughs[0].end_s + 0.3) * 16000))
    assert np.max(np.abs(dry.audio[cough] - night.audio[cough])) > 10 * np.std(floor)
    flat = build_night(clips, duration_s=300.0, seed=0, settings=SETTINGS, bedside=Bedside(microphone=False))
    assert flat.truth == night.truth and not np.array_equal(flat.audio[:24000], night.audio[:24000])


def test_night_scoring_counts_found_false_and_snore_minutes():
    truth = [
        TrueEvent("cough", 10.0, 10.4, 8.0),
        TrueEvent("cough", 20.0, 20.4, 20.0),
        TrueEvent("snore", 100.0, 160.0, 10.0),
    ]
    events = [
        {"label": "cough", "start_s": 10.3, "end_s": 10.6},  # found (0.3 s late)
        {"label": "cough", "start_s": 10.35, "end_s": 10.6},  # the same cough again: a duplicate
        {"label": "cough", "start_s": 50.0, "end_s": 50.3},  # false
        {"label": "snore", "start_s": 90.0, "end_s": 130.0},  # 30 s of the true minute, 10 s before it
        {"label": "snore", "start_s": 300.0, "end_s": 318.0},  # no snoring there
    ]
    score = score_night(events, truth, duration_s=1800.0)
    assert (score["found_coughs"], score["detected_coughs"], score["false_coughs"]) == (1, 3, 1)
    assert score["duplicate_coughs"] == 1
    assert score["coughs_by_level"]["5-12 dB"] == {"true": 1, "found": 1}
    assert score["coughs_by_level"]["18-25 dB"] == {"true": 1, "found": 0}
    totals = night_totals([score])
    assert totals["cough_recall"] == 0.5 and totals["cough_precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert totals["false_coughs_per_hour"] == 2.0 and totals["detected_coughs"] == 3
    assert totals["duplicate_coughs"] == 1
    assert score["found_snore_minutes"] == 0.5 and score["detected_snore_minutes"] == pytest.approx(
        58 / 60, abs=0.01
    )
    assert totals["snore_minutes_error"] == pytest.approx(-2 / 60, abs=0.01)  # nearly right in total...
    assert totals["snore_recall"] == 0.5  # ...though half the snoring was missed
    assert totals["snore_precision"] == pytest.approx(30 / 58, abs=0.01)
    assert totals["false_snore_minutes_per_hour"] == pytest.approx((28 / 60) / 0.5, abs=0.02)


def test_evaluate_measures_a_run_on_levels_and_a_bedroom_night(trained_run, tmp_path):
    from conftest import run_cli

    out = tmp_path / "evaluation"
    result = run_cli(
        [
            "evaluate",
            "--run",
            str(trained_run),
            "--out",
            str(out),
            "--levels",
            "--nights",
            "1",
            "--minutes",
            "5",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "| -46 dBFS |" in result.stdout and "night 1/1" in result.stderr
    results = json.loads((out / "evaluation.json").read_text())
    levels = results["level_sweep"]["levels"]
    assert list(levels) == ["-6 dBFS", "-26 dBFS", "-46 dBFS"]
    for row in levels.values():
        assert 0 <= row["cough_recall"] <= 1 and 0 <= row["false_positive_rate"] <= 1
    totals = results["nights"]["totals"]
    assert totals["nights"] == 1 and totals["true_coughs"] >= 2 and totals["true_snore_minutes"] > 0.9
    truth = (out / "nights" / "night_0" / "truth.csv").read_text().splitlines()
    assert truth[0] == "label,start_s,end_s,snr_db" and len(truth) - 1 >= totals["true_coughs"]
    assert (out / "nights" / "night_0" / "events.csv").exists()
    assert (out / "evaluation.png").stat().st_size > 10_000
    # the rules replayed on the recorded windows at the model's threshold give what detect gave
    curve = results["nights"]["cough_threshold_curve"]
    (own,) = [row for row in curve if row["model_threshold"]]
    for key in ("cough_recall", "cough_precision", "false_coughs_per_hour"):
        assert own[key] == totals[key], key
    assert [row["threshold"] for row in curve] == sorted(row["threshold"] for row in curve)
    assert {0.5, 0.81, 0.99} <= {row["threshold"] for row in curve}  # every 0.01 in the JSON
    assert "The same nights at other cough thresholds" in result.stdout
    assert "| 0.800 |" in result.stdout and "| 0.810 |" not in result.stdout  # the table: a few of them
    snore_curve = results["nights"]["snore_threshold_curve"]
    (own,) = [row for row in snore_curve if row["model_threshold"]]
    for key in ("snore_recall", "snore_precision", "false_snore_minutes_per_hour"):
        assert own[key] == totals[key], key
    assert {0.5, 0.99} <= {row["threshold"] for row in snore_curve}
    assert 0 <= totals["snore_recall"] <= 1 and "The same nights at other snore thresholds" in result.stdout


def test_evaluate_says_what_is_missing(trained_run, tmp_path):
    from conftest import run_main

    nothing = run_main(["evaluate", "--run", str(trained_run), "--out", str(tmp_path / "e")])
    assert nothing.returncode == 2 and "nothing to measure" in nothing.stderr
    no_run = run_main(["evaluate", "--run", str(tmp_path), "--out", str(tmp_path / "e"), "--levels"])
    assert no_run.returncode == 2 and "not a training run folder" in no_run.stderr
    no_column = run_main(
        ["evaluate", "--run", str(trained_run), "--out", str(tmp_path / "e"), "--holdout", "microphone"]
    )
    assert no_column.returncode == 2 and "no column 'microphone'" in no_column.stderr


def test_a_shifted_window_moves_its_content_and_leaves_silence():
    from training.audio.augment import shifted

    ramp = np.tile(np.arange(1, 97, dtype=np.float32)[:, None], (1, 4))
    offsets = set()
    for seed in range(8):
        moved = shifted(tf.constant(ramp), tf.constant([seed, 9], tf.int64), 32).numpy()[:, 0]
        kept = moved[moved > 0]
        np.testing.assert_array_equal(np.diff(kept), 1)  # order kept, nothing invented
        if kept[0] == 1:  # moved later: silence first
            offset = int(np.argmax(moved > 0))
            assert np.all(moved[:offset] == 0)
        else:  # moved earlier: silence last
            assert kept[-1] == 96 and np.all(moved[kept.size :] == 0)
            offset = -int(kept[0] - 1)
        assert abs(offset) <= 32 and kept.size == 96 - abs(offset)
        offsets.add(offset)
    assert len(offsets) > 3


def test_holdout_trains_without_each_source_and_scores_it(trained_run, tmp_path):
    import csv
    import shutil

    from conftest import run_cli

    run = tmp_path / "run"  # the shared tiny run, its manifest given a source column
    shutil.copytree(trained_run, run)
    config = json.loads((run / "config.json").read_text())
    with open(config["data"], newline="") as handle:
        rows = list(csv.DictReader(handle))
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as handle:  # two speakers on another phone; the rest unnamed
        writer = csv.DictWriter(handle, fieldnames=[*rows[0], "source"])
        writer.writeheader()
        for row in rows:
            speaker = row["group"].removeprefix("spk")
            path = str((Path(config["data"]).parent / row["path"]).resolve())
            writer.writerow({**row, "path": path, "source": "phone" if speaker in ("04", "05") else ""})
    (run / "config.json").write_text(json.dumps({**config, "data": str(manifest)}))
    out = tmp_path / "evaluation"
    result = run_cli(
        [
            "evaluate",
            "--run",
            str(run),
            "--out",
            str(out),
            "--holdout",
            "source",
            "--epochs",
            "1",
            "--prune",
            "0.75",
            "--prune-epochs",
            "2",
            "--prune-distill",
            "0.5",
        ]
    )
    assert result.returncode == 0, result.stderr
    holdout = json.loads((out / "evaluation.json").read_text())["holdout"]
    held = holdout["held_out"]
    assert set(held) == {"phone"}  # clips without a source are never held out
    with open(out / "holdout" / "phone" / "manifest.csv", newline="") as handle:
        kept = list(csv.DictReader(handle))
    phone = [row for row in rows if row["group"] in ("spk04", "spk05")]
    assert len(kept) == len(rows) - len(phone) and {row["source"] for row in kept} == {
        ""
    }  # trained without it
    labels = held["phone"]["labels"]
    assert {label: figures["clips"] for label, figures in labels.items()} == {
        label: sum(row["label"] == label for row in phone) for label in ("cough", "snore")
    }
    assert all(0 <= figures["recall"] <= 1 for figures in labels.values())
    assert "| held-out source | label | clips | recall | pruned 75%: recall |" in result.stdout
    pruned = out / "holdout" / "phone" / "pruned"  # the held-out run pruned, its sparse file scored
    pruning = json.loads((pruned / "config.json").read_text())["pruning"]
    assert (pruning["sparsity"], pruning["epochs"], pruning["distill"]) == (0.75, 2, 0.5)
    assert (holdout["pruning_epochs"], holdout["pruning_distill"]) == (2, 0.5)
    assert check_sparse(pruned / "model_sparse.tflite").sparse_ready
    assert set(held["phone"]["pruned"]) == set(labels)
    assert all(0 <= figures["recall"] <= 1 for figures in held["phone"]["pruned"].values())


def test_prune_needs_holdout(trained_run, tmp_path):
    from conftest import assert_one_line_error, run_main

    line = assert_one_line_error(
        run_main(
            ["evaluate", "--run", str(trained_run), "--out", str(tmp_path), "--levels", "--prune", "0.8"]
        ),
        2,
    )
    assert "--prune prunes the --holdout runs" in line
    line = assert_one_line_error(
        run_main(
            [
                "evaluate",
                "--run",
                str(trained_run),
                "--out",
                str(tmp_path),
                "--holdout",
                "source",
                "--prune-epochs",
                "2",
            ]
        ),
        2,
    )
    assert "give --prune SPARSITY with it" in line
    line = assert_one_line_error(
        run_main(
            ["evaluate", "--run", str(trained_run), "--out", str(tmp_path), "--holdout", "source"]
            + ["--prune-distill", "0.5"]
        ),
        2,
    )
    assert "--prune-distill sets how --prune fine-tunes" in line


def test_validation_clips_over_a_floor_keep_the_sound_and_add_noise_below_its_loudest_frame():
    from training.audio.evaluation_set import over_floor

    rng = np.random.default_rng(3)
    cough = synth.cough(rng, speaker=synth.random_speaker(rng), n_coughs=1)
    rows = log_mel(np.concatenate([np.zeros(8000, np.float32), cough]), SETTINGS)
    power = np.exp(rows.astype(np.float64) * SETTINGS.log_scale + SETTINGS.log_offset) - SETTINGS.log_floor
    noisy = (
        np.exp(over_floor(rows, SETTINGS, 24.0).astype(np.float64) * SETTINGS.log_scale + SETTINGS.log_offset)
        - SETTINGS.log_floor
    )
    added = noisy - power
    assert np.all(added > -1e-6 * power.max())  # noise only adds
    ratio_db = 10 * np.log10(np.max(np.mean(power, axis=1)) / np.mean(added))
    assert ratio_db == pytest.approx(24.0, abs=0.1)
    silence = slice(0, 40)  # the half second before the cough is now the floor
    assert np.mean(noisy[silence]) > 1e3 * np.mean(power[silence])
