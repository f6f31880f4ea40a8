"""The sleep classifier as a user meets it: train radar, sleep, night (from files and live), demo."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import soundfile
from conftest import assert_one_line_error, run_cli, run_main

from sensing.errors import DataError, ModelError, RadarError
from sensing.radar.processing import RadarFeatureSettings
from sensing.radar.recording import (
    EPOCH_LABELS,
    Recording,
    read_epochs,
    write_recording,
)
from sensing.radar.simulate import NightParameters, RadarHardware, simulate_night
from sensing.radar.sleep.epoch_metrics import compare_epochs, compare_nights
from sensing.radar.sleep.input import (
    BANDS,
    band_rows,
    input_shape,
    model_input,
    night_inputs,
    sleeper_centre,
)
from sensing.radar.sleep.model import (
    DEFAULT_MODEL,
    SleepClassifier,
    read_sleep_metadata,
)
from sensing.radar.sleep.smoothing import estimate_transitions

SETTINGS = RadarFeatureSettings()


@pytest.fixture(scope="module")
def radar_run(tmp_path_factory):
    """A sleep model trained for one pass on two simulated 12-minute nights."""
    out = tmp_path_factory.mktemp("radar_run")
    result = run_cli(
        ["train", "radar", "--simulate", "2", "--hours", "0.2", "--epochs", "1", "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stdout


@pytest.fixture(scope="module")
def short_night(tmp_path_factory):
    """A 20-minute simulated night (default radar) and its true labels."""
    folder = tmp_path_factory.mktemp("night")
    path, labels = simulate_night(folder / "night.npz", seed=21, hours=1 / 3)
    return path, read_epochs(labels)


def test_training_on_two_short_nights_writes_the_documented_outputs(radar_run):
    out, stdout = radar_run
    for name in (
        "config.json",
        "model.keras",
        "model.tflite",
        "metrics.json",
        "training_curves.png",
        "confusion_validation.png",
        "hypnogram_validation.png",
    ):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["splits"]["train"]["nights"] == 1 and metrics["splits"]["validation"]["nights"] == 1
    assert metrics["splits"]["train"]["epochs"] == 24
    assert set(metrics["validation"]["smoothed"]) >= {
        "accuracy",
        "kappa",
        "confusion",
        "sleep_sensitivity",
        "wake_specificity",
        "absent_recall",
        "tst_bias_min",
    }
    assert "no test nights" in metrics["note"]
    assert json.loads((out / "config.json").read_text())["status"] == "finished"
    assert (out / "model.tflite").stat().st_size < 200 * 1024
    metadata = read_sleep_metadata(out / "model.tflite")
    assert metadata.labels == EPOCH_LABELS and metadata.features == SETTINGS
    assert sum(metadata.smoothing.prior) == pytest.approx(1.0)
    assert all(sum(row) == pytest.approx(1.0) for row in metadata.smoothing.transitions)
    assert "validation nights (1 nights, 24 epochs" in stdout


def test_the_sleep_network_has_the_shape_xnnpack_runs_sparsely_once_pruned(radar_run):
    from sensing.tflite.sparse_check import check_sparse

    report = check_sparse(radar_run[0] / "model.tflite")
    assert report.stem is not None and report.stem_problem is None and report.culprit is None
    assert not report.sparse_ready and report.zeros == 0  # dense until pruned


def test_prune_makes_a_sleep_run_sparse_and_scores_it_against_the_dense_model(
    radar_run, short_night, tmp_path
):
    from sensing.tflite.sparse_check import check_sparse

    run, _ = radar_run
    out = tmp_path / "pruned"
    result = run_cli(["prune", "--run", str(run), "--out", str(out), "--sparsity", "0.8", "--epochs", "2"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "XNNPACK will run model_sparse.tflite sparsely" in result.stdout
    assert "validation nights (1), smoothed" in result.stdout
    assert json.loads((out / "config.json").read_text())["status"] == "finished"
    metrics = json.loads((out / "metrics.json").read_text())
    assert min(metrics["sparsity_1x1"]["per_layer"].values()) >= 0.79
    exports = metrics["exports"]
    assert exports["dense_base"]["file"] == str(run / "model.tflite")
    assert exports["sparse"]["bytes"] < 0.6 * exports["float32"]["bytes"]
    # the same weights stored sparse decide every validation epoch as the dense file does
    assert exports["sparse"]["validation"]["smoothed"] == exports["float32"]["validation"]["smoothed"]
    assert check_sparse(out / "model_sparse.tflite").sparse_ready
    assert not check_sparse(out / "model.tflite").sparse_ready
    assert (out / "sparsity.png").is_file()

    # distilled from the dense model, in another batch order: recorded, and other weights
    other = tmp_path / "distilled"
    result = run_cli(
        ["prune", "--run", str(run), "--out", str(other), "--epochs", "2", "--distill", "0.5", "--seed", "3"]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pruning = json.loads((other / "config.json").read_text())["pruning"]
    assert (pruning["distill"], pruning["seed"], pruning["epochs"]) == (0.5, 3, 2)
    assert json.loads((out / "config.json").read_text())["pruning"]["distill"] == 0
    assert check_sparse(other / "model_sparse.tflite").sparse_ready
    assert (other / "model_sparse.tflite").read_bytes() != (out / "model_sparse.tflite").read_bytes()

    path, truth = short_night
    slept = run_main(
        ["sleep", str(path), "--model", str(out / "model_sparse.tflite"), "--out", str(tmp_path / "s")]
    )
    assert slept.returncode == 0, slept.stderr
    with open(tmp_path / "s" / "epochs.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == len(truth)

    no_weights = tmp_path / "no_weights"
    shutil.copytree(run, no_weights)
    (no_weights / "model.keras").unlink()
    line = assert_one_line_error(
        run_main(["prune", "--run", str(no_weights), "--out", str(tmp_path / "o")]), 2
    )
    assert f"{no_weights / 'model.keras'}: not found" in line
    line = assert_one_line_error(run_main(["prune", "--run", str(out), "--out", str(tmp_path / "o")]), 2)
    assert f"{out / 'nights'}: not found" in line and "prune the run it came from" in line
    line = assert_one_line_error(
        run_main(["prune", "--run", str(run), "--out", str(tmp_path / "o"), "--thresholds", "dense"]), 2
    )
    assert "a sleep run; --from-scratch, --thresholds take audio runs" in line
    line = assert_one_line_error(
        run_main(["prune", "--run", str(run), "--out", str(tmp_path / "o"), "--from-scratch"]), 2
    )
    assert "a sleep run" in line
    line = assert_one_line_error(
        run_main(["prune", "--run", str(run), "--out", str(tmp_path / "o"), "--distill", "1.5"]), 2
    )
    assert "from 0 to 1" in line
    assert not (tmp_path / "o").exists()


def test_sleep_writes_epochs_report_and_hypnogram(radar_run, short_night, tmp_path):
    out, _ = radar_run
    path, truth = short_night
    result = run_cli(["sleep", str(path), "--model", str(out / "model.tflite"), "--out", str(tmp_path)])
    assert result.returncode == 0, result.stderr[-2000:]
    with open(tmp_path / "epochs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["start_s", "label", "p_absent", "p_awake", "p_asleep"]
    assert [float(row["start_s"]) for row in rows] == [30.0 * k for k in range(len(truth))]
    for row in rows:
        assert row["label"] in EPOCH_LABELS
        assert sum(float(row[f"p_{label}"]) for label in EPOCH_LABELS) == pytest.approx(1.0, abs=1e-3)
    report = json.loads((tmp_path / "report.json").read_text())
    for key in (
        "time_in_bed_min",
        "total_sleep_min",
        "sleep_onset_latency_min",
        "wake_after_sleep_onset_min",
        "sleep_efficiency",
        "awakenings",
        "breathing_rate_bpm",
    ):
        assert key in report["summary"]
    assert report["sleeper_range_found_by"] == "calibrated"
    assert (tmp_path / "hypnogram.png").stat().st_size > 5000


def test_the_bundled_model_scores_a_held_out_night(short_night, tmp_path):
    path, truth = short_night
    result = run_cli(["sleep", str(path), "--out", str(tmp_path)], block=("tensorflow", "tf_keras"))
    assert result.returncode == 0, result.stderr[-2000:]
    scored = read_epochs(tmp_path / "epochs.csv")
    assert compare_epochs(truth, scored)["accuracy"] >= 0.8
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"]["path"] == str(DEFAULT_MODEL)


def test_inputs_do_not_depend_on_the_radar_gain(short_night):
    path, _ = short_night
    with Recording(path) as recording:
        frames = recording.read()
        config = recording.config
    tensors = {}
    for gain in (1.0, 300.0):
        scaled = path.with_name(f"gain_{gain:g}.npz")
        write_recording(scaled, frames * np.complex64(gain), config)
        tensors[gain] = night_inputs(scaled, SETTINGS).inputs
    assert tensors[1.0].shape == (40, *input_shape(SETTINGS))
    np.testing.assert_allclose(tensors[300.0], tensors[1.0], atol=2e-3)


def test_bands_split_the_rows_at_a_tenth_of_a_metre():
    nearer, sleeper, further = band_rows(SETTINGS)
    offsets = SETTINGS.rows_m(0.0)
    assert BANDS == ("nearer", "sleeper", "further")
    assert offsets[sleeper].tolist() == pytest.approx([-0.1, -0.05, 0.0, 0.05, 0.1])
    assert offsets[nearer].max() < -0.1 and offsets[further].min() > 0.1
    assert len(nearer) + len(sleeper) + len(further) == SETTINGS.n_rows


def test_an_empty_tensor_gives_zeros_and_pure_noise_reads_its_mean_over_the_floor():
    assert not model_input(np.zeros(SETTINGS.tensor_shape, np.float32), SETTINGS).any()
    noise = np.random.default_rng(0).exponential(1e-5, SETTINGS.tensor_shape)
    values = model_input(np.log1p(noise / 1e-6).astype(np.float32), SETTINGS)
    assert values.shape == input_shape(SETTINGS) == (80, 26, 3)
    assert not values[75:].any() and not values[:, 25:].any()
    floor = -np.log(0.8)  # the 20th percentile of exponential noise of mean 1
    assert np.median(values[:75, :25]) == pytest.approx(np.log1p(1 / floor), abs=0.15)


def test_another_radar_gives_inputs_of_the_same_shape(tmp_path):
    hardware = RadarHardware.random(5)
    assert (hardware.frame_rate_hz, hardware.n_rx) != (15.0, 3) or hardware.n_bins != 100
    parameters = NightParameters.random(5).widened(5)
    path, _ = simulate_night(
        tmp_path / "other.npz", seed=5, hours=0.1, parameters=parameters, hardware=hardware
    )
    inputs = night_inputs(path, SETTINGS).inputs
    assert inputs.shape == (12, *input_shape(SETTINGS)) and np.isfinite(inputs).all()


def test_transitions_are_counted_from_labelled_nights():
    rows = estimate_transitions([["absent", "awake", "asleep", "asleep", "asleep"], ["awake", "awake"]])
    np.testing.assert_allclose(rows, [[1 / 4, 2 / 4, 1 / 4], [1 / 5, 2 / 5, 2 / 5], [1 / 5, 1 / 5, 3 / 5]])
    with pytest.raises(RadarError, match="pseudo_count"):
        estimate_transitions([["awake"]], pseudo_count=0)
    with pytest.raises(RadarError, match="night 1: no epochs"):
        estimate_transitions([["awake"], []])
    with pytest.raises(RadarError, match="'snoring'"):
        estimate_transitions([["awake", "snoring"]])


def test_pooled_comparison_sums_confusions_and_takes_the_median_bias():
    nights = [
        (["awake", "asleep", "asleep"], ["awake", "asleep", "awake"]),
        (["absent", "asleep"], ["absent", "asleep"]),
    ]
    pooled = compare_nights(nights)
    assert pooled["epochs"] == 5 and pooled["accuracy"] == pytest.approx(4 / 5)
    assert pooled["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 1, 2]]
    assert pooled["sleep_sensitivity"] == pytest.approx(2 / 3)
    assert pooled["tst_bias_min"] == pytest.approx(-0.25)
    assert pooled["tst_bias_max_abs_min"] == pytest.approx(-0.5)
    with pytest.raises(RadarError, match="no nights"):
        compare_nights([])


def test_an_audio_model_is_refused_as_a_sleep_model():
    with pytest.raises(ModelError, match="not a sleep model"):
        SleepClassifier("sensing/models/cough_snore.tflite")


def test_a_truncated_sleep_model_is_named(tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    result = run_cli(["sleep", "whatever.npz", "--model", str(broken), "--out", str(tmp_path / "o")])
    assert result.returncode == 2 and "broken.tflite" in result.stderr and "Traceback" not in result.stderr


def test_a_recording_shorter_than_an_epoch_is_refused(tmp_path):
    path, _ = simulate_night(tmp_path / "night.npz", seed=1, hours=0.01)
    short = tmp_path / "short.npz"
    with Recording(path) as recording:
        write_recording(short, recording.read(0, 300), recording.config)
    result = run_cli(["sleep", str(short), "--out", str(tmp_path / "o")])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "short.npz" in result.stderr and "shorter than one epoch" in result.stderr


def test_training_data_without_labels_is_named(tmp_path):
    from training.radar.data import find_recordings, load_night

    path, labels = simulate_night(tmp_path / "a.npz", seed=2, hours=0.05)
    labels.unlink()
    with pytest.raises(DataError, match="a.npz"):
        find_recordings(tmp_path)
    labels.write_text("start_s,label\n0,asleep\n")
    with pytest.raises(DataError, match="1 labelled epochs, but the recording holds 6"):
        load_night(path, SETTINGS, tmp_path / "cache")


def test_training_reads_a_folder_of_labelled_recordings_and_caches_inputs(tmp_path):
    from training.radar.data import find_recordings, load_nights

    (tmp_path / "data").mkdir()
    for seed in (3, 4):
        simulate_night(tmp_path / "data" / f"n{seed}.npz", seed=seed, hours=0.05)
    recordings = find_recordings(tmp_path / "data")
    nights = load_nights(recordings, SETTINGS, tmp_path / "cache")
    assert [night.name for night in nights] == ["n3", "n4"]
    cached = sorted(path.name for path in (tmp_path / "cache").iterdir())
    assert cached == ["n3.inputs.npz", "n4.inputs.npz"]
    stamp = (tmp_path / "cache" / "n3.inputs.npz").stat().st_mtime_ns
    again = load_nights(recordings, SETTINGS, tmp_path / "cache")
    assert (tmp_path / "cache" / "n3.inputs.npz").stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again[0].inputs, nights[0].inputs)
    other = RadarFeatureSettings(clutter_time_constant_s=5.0)
    changed = load_nights(recordings[:1], other, tmp_path / "cache")
    assert (tmp_path / "cache" / "n3.inputs.npz").stat().st_mtime_ns != stamp
    assert not np.array_equal(changed[0].inputs, nights[0].inputs)


def _generated_blocks(path, block_s: float = 0.5):
    with soundfile.SoundFile(path) as sound:
        while True:
            block = sound.read(int(block_s * sound.samplerate), dtype="float32")
            if not len(block):
                return
            yield block


def _probabilities(path) -> np.ndarray:
    with open(path, newline="") as handle:
        return np.array(
            [[float(row[f"p_{label}"]) for label in EPOCH_LABELS] for row in csv.DictReader(handle)]
        )


def test_live_night_runs_generated_audio_and_radar_in_step_as_the_file_path_does(short_night, tmp_path):
    from sensing.night.run import live_night, replay_radar
    from sensing.synthetic.night import make_night

    path, truth = short_night
    wav, _ = make_night(tmp_path / "night.wav", duration_s=len(truth) * 30.0, seed=4)
    with Recording(path) as recording:
        centre_m = sleeper_centre(recording, SETTINGS).centre_m
    report = live_night(
        _generated_blocks(wav),
        replay_radar(path),
        out_dir=tmp_path / "live",
        centre_m=centre_m,
        gate="asleep",
    )
    assert report["radar_ended_s"] is None
    epochs = read_epochs(tmp_path / "live" / "sleep" / "epochs.csv")
    assert len(epochs) == len(truth)
    with open(tmp_path / "live" / "events.csv", newline="") as handle:
        events = list(csv.DictReader(handle))
    assert len(events) == report["events_kept"] + report["events_dropped"] > 0
    for event in events:
        middle = (float(event["start_s"]) + float(event["end_s"])) / 2
        state = epochs[int(middle // 30)] if middle < 30 * len(epochs) else None
        assert (event["kept"] == "1") == (state == "asleep")
    assert (tmp_path / "live" / "night.png").is_file()
    result = run_cli(["sleep", str(path), "--centre-m", str(centre_m), "--out", str(tmp_path / "file")])
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(
        _probabilities(tmp_path / "live" / "sleep" / "epochs.csv"),
        _probabilities(tmp_path / "file" / "epochs.csv"),
    )
    assert read_epochs(tmp_path / "file" / "epochs.csv") == epochs


def test_a_live_night_ends_when_the_radar_ends(short_night, tmp_path):
    from sensing.night.run import live_night, replay_radar
    from sensing.synthetic.night import make_night

    path, truth = short_night
    shorter = tmp_path / "ten_minutes.npz"
    with Recording(path) as recording:
        write_recording(
            shorter, recording.read(0, round(600 * recording.config.frame_rate_hz)), recording.config
        )
    wav, _ = make_night(tmp_path / "night.wav", duration_s=len(truth) * 30.0, seed=4)
    report = live_night(
        _generated_blocks(wav), replay_radar(shorter), out_dir=tmp_path / "live", centre_m=0.9
    )
    assert report["radar_ended_s"] == pytest.approx(600.0)
    assert len(read_epochs(tmp_path / "live" / "sleep" / "epochs.csv")) == 20
    audio = json.loads((tmp_path / "live" / "audio" / "report.json").read_text())
    assert audio["duration_s"] == pytest.approx(600.0, abs=1.0)


def test_night_from_files_gates_audio_by_the_radar(short_night, tmp_path):
    from sensing.synthetic.night import make_night

    path, truth = short_night
    wav, _ = make_night(tmp_path / "night.wav", duration_s=len(truth) * 30.0, seed=5)
    result = run_cli(
        ["night", "--audio", str(wav), "--radar", str(path), "--out", str(tmp_path / "n")],
        block=("tensorflow", "tf_keras"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "n" / "report.json").read_text())
    assert report["gate"] == "in-bed" and report["allowed_states"] == ["awake", "asleep"]
    audio = json.loads((tmp_path / "n" / "audio" / "report.json").read_text())
    assert report["events_kept"] + report["events_dropped"] == len(audio["events"])
    assert set(report["dropped_by_state"]) <= {"absent", "no radar epoch"}
    for name in ("events.csv", "night.png", "sleep/epochs.csv", "sleep/hypnogram.png", "audio/events.csv"):
        assert (tmp_path / "n" / name).is_file(), name
    assert report["coughs_heard"] == audio["cough_count"] and report["warnings"] == []
    assert "coughs: " in result.stdout and "snoring: " in result.stdout


def test_night_needs_audio_or_mic(short_night, tmp_path):
    path, _ = short_night
    result = run_cli(["night", "--radar", str(path), "--out", str(tmp_path)])
    assert result.returncode == 2 and "--audio FILE or --mic" in result.stderr


def test_training_batches_cut_some_contexts_as_at_a_recording_edge():
    from training.radar.batches import EpochBatches
    from training.tf_setup import tf

    inputs = np.ones((200, *input_shape(SETTINGS)), np.float32)
    inputs[:, 75:] = 0.0
    labels = np.arange(200) % 3
    batches = EpochBatches(
        inputs,
        labels,
        n_classes=3,
        global_batch=50,
        seed=1,
        settings=SETTINGS,
        class_weight={0: 1.0, 1: 1.0, 2: 1.0},
        edge_probability=0.5,
    )
    assert batches.steps_per_epoch == 4
    epoch = list(batches.dataset(0, tf.distribute.InputContext()).as_numpy_iterator())
    again = list(batches.dataset(0, tf.distribute.InputContext()).as_numpy_iterator())
    next_pass = list(batches.dataset(1, tf.distribute.InputContext()).as_numpy_iterator())
    first, targets, weights = epoch[0]
    np.testing.assert_array_equal(first, again[0][0])
    assert not np.array_equal(targets, next_pass[0][1])
    assert first.shape == (50, 80, 26, 3) and targets.shape == (50, 3) and weights.shape == (50,)
    steps_kept = first[:, :, 0, 0].sum(axis=1)
    assert (steps_kept < 75).any() and (steps_kept == 75).any() and steps_kept.min() >= 75 - 2 * 32
    for row in first[:, :75, 0, 0]:
        kept = np.flatnonzero(row)
        assert kept.size and (np.diff(kept) == 1).all()  # zeros only at the start and the end
        assert kept[0] <= 32 and kept[-1] >= 75 - 33  # the labelled epoch itself is never cut
    seen = np.concatenate([batch[1].argmax(axis=1) for batch in epoch])
    assert np.bincount(seen).tolist() == np.bincount(labels).tolist()


def test_a_recording_that_starts_and_ends_asleep_is_scored_asleep_at_its_edges(short_night, tmp_path):
    path, truth = short_night
    start = next(k for k in range(len(truth)) if truth[k : k + 10] == ["asleep"] * 10)
    cut = tmp_path / "asleep.npz"
    with Recording(path) as recording:
        rate = recording.config.frame_rate_hz
        write_recording(
            cut, recording.read(round(start * 30 * rate), round((start + 10) * 30 * rate)), recording.config
        )
    result = run_cli(["sleep", str(cut), "--out", str(tmp_path / "out")])
    assert result.returncode == 0, result.stderr[-2000:]
    assert read_epochs(tmp_path / "out" / "epochs.csv") == ["asleep"] * 10
