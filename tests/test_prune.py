"""``sensing prune``: sparsity reached, exports that agree, a sparse file XNNPACK accepts."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, assert_one_line_error, run_cli, run_main

from sensing.audio.classifier import AudioClassifier
from sensing.audio.model_input import clip_inputs
from sensing.tflite.graph import read_graph
from sensing.tflite.sparse_check import check_sparse
from training.audio.evaluate import split_clips

SPARSITY = 0.8
INT8_AGREEMENT = 0.9
"""Share of validation clips on which the int8 file must decide as the model it follows does."""
INT8_SCORE_STEPS = 4
"""Most int8 output steps (1/256) between an int8 window score and the float32 file's."""
TENSORFLOW_NOISE = ("E0000", "W0000", "cuInit", "error")
"""What TensorFlow and its TFLite converter print on their own (kept off the terminal unless --verbose)."""


@pytest.fixture(scope="module")
def pruned_run(trained_run, tmp_path_factory):
    """The tiny run fine-tuned while pruned, with its own seed and thresholds matched to the dense model."""
    out = tmp_path_factory.mktemp("pruned")
    result = run_cli(
        [
            "prune",
            "--run",
            str(trained_run),
            "--out",
            str(out),
            "--sparsity",
            str(SPARSITY),
            "--epochs",
            "2",
            "--seed",
            "7",
            "--thresholds",
            "dense",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    noise = [line for line in result.stderr.splitlines() if any(word in line for word in TENSORFLOW_NOISE)]
    assert not noise, f"TensorFlow printed on its own (without --verbose): {noise[:3]}"
    return out, result.stdout


def _validation_clips(run):
    return split_clips(run, split="validation", sr=16000)


def test_prune_writes_every_form_with_metrics_and_plots(pruned_run):
    out, stdout = pruned_run
    for name in (
        "model.tflite",
        "model_sparse.tflite",
        "model_sparse_fp16.tflite",
        "model_int8.tflite",
        "model.keras",
        "metrics.json",
        "config.json",
        "training_curves.png",
        "sparsity.png",
        "confusion_test.png",
    ):
        assert (out / name).is_file(), name
    for name in ("model_sparse.tflite", "model_int8.tflite"):
        assert name in stdout
    assert "XNNPACK will run model_sparse.tflite sparsely" in stdout
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished"
    pruning = config["pruning"]
    assert pruning["sparsity"] == SPARSITY and pruning["epochs"] == 2
    assert pruning["learning_rate"] > 0
    assert pruning["schedule"]["kind"] == "tfmot PolynomialDecay"
    assert pruning["schedule"]["end_step"] <= 2 * pruning["schedule"]["steps_per_epoch"]


def test_every_one_by_one_convolution_reaches_the_target_sparsity(pruned_run):
    from training.tf_setup import keras

    out, _ = pruned_run
    model = keras.models.load_model(out / "model.keras", compile=False)
    pointwise = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (1, 1)
    ]
    assert len(pointwise) == 13
    for layer in pointwise:
        assert np.mean(layer.get_weights()[0] == 0) >= SPARSITY - 0.005, layer.name
    stem = model.get_layer("stem_conv").get_weights()[0]
    assert np.mean(stem == 0) < 0.05  # only 1x1 convolutions are pruned
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["sparsity_1x1"]["overall"] >= SPARSITY - 0.005


def test_sparse_file_holds_sparse_tensors_and_matches_the_dense_file(pruned_run):
    out, _ = pruned_run
    graph = read_graph(out / "model_sparse.tflite")
    assert sum(op.name == "DENSIFY" for op in graph.operators) >= 13
    assert sum(tensor.is_sparse for tensor in graph.tensors) >= 13
    assert not any(tensor.is_sparse for tensor in read_graph(out / "model.tflite").tensors)
    dense_bytes = (out / "model.tflite").stat().st_size
    assert (out / "model_sparse.tflite").stat().st_size <= dense_bytes / 2

    dense, sparse = AudioClassifier(out / "model.tflite"), AudioClassifier(out / "model_sparse.tflite")
    windows = np.random.default_rng(0).standard_normal((20, 96, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(sparse.predict_windows(windows), dense.predict_windows(windows), atol=1e-5)
    assert check_sparse(out / "model_sparse.tflite").sparse_ready
    assert not check_sparse(out / "model.tflite").sparse_ready


def test_int8_export_scores_as_float_does_and_decides_as_the_dense_model(trained_run, pruned_run):
    out, _ = pruned_run
    int8 = AudioClassifier(out / "model_int8.tflite")
    assert int8.backend == "ai_edge_litert" and int8.is_quantized
    graph = read_graph(out / "model_int8.tflite")
    assert not any(op.name == "DENSIFY" for op in graph.operators)  # stored dense for TFLite Micro
    float32, dense = AudioClassifier(out / "model.tflite"), AudioClassifier(trained_run / "model.tflite")
    clips = _validation_clips(out)
    windows = np.concatenate(
        [clip_inputs(c.samples, float32.frontend, float32.metadata.features)[0] for c in clips]
    )
    steps = np.abs(int8.predict_windows(windows) - float32.predict_windows(windows)).max() * 256
    assert steps <= INT8_SCORE_STEPS, f"int8 scores up to {steps:.1f} output steps from float32's"
    # --thresholds dense: the int8 file's thresholds, set on its own scores, follow the dense model
    agreement = np.mean(
        [int8.classify_audio(c.samples).label == dense.classify_audio(c.samples).label for c in clips]
    )
    assert agreement >= INT8_AGREEMENT, f"int8 decides as the dense model on {agreement:.0%} of clips"


def test_stripped_model_gives_the_wrapped_models_outputs(tmp_path):
    import tensorflow_model_optimization as tfmot

    from training.model import CnnSettings, build_audio_cnn
    from training.pruning import stripped, wrap_for_pruning
    from training.run_settings import PruneSettings
    from training.tf_setup import keras

    keras.utils.set_random_seed(0)
    model = build_audio_cnn(
        input_shape=(32, 16, 3),
        n_classes=3,
        settings=CnnSettings(blocks=((2, 8, 2), (2, 8, 1)), head_channels=16),
    )
    settings = PruneSettings(sparsity=0.75, epochs=2)
    wrapped = wrap_for_pruning(model, settings, settings.schedule_steps(4))
    wrapped.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 32, 16, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    wrapped.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    plain = stripped(wrapped)
    np.testing.assert_allclose(plain.predict(x, verbose=0), wrapped.predict(x, verbose=0), atol=1e-5)
    kernels = [
        layer.get_weights()[0]
        for layer in plain.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (1, 1)
    ]
    assert all(np.mean(kernel == 0) >= 0.74 for kernel in kernels)


def test_distilled_targets_mix_the_label_with_the_teachers_scores():
    from training.distillation import DistilledWindows
    from training.tf_setup import keras, tf

    keras.utils.set_random_seed(0)
    teacher = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((8, 6)).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
    weights = rng.uniform(0.5, 2.0, 8).astype(np.float32)

    class Batches:  # two batches of four, as TrainingWindows.dataset yields them
        steps_per_epoch = 2

        def dataset(self, epoch, context):
            return tf.data.Dataset.from_tensor_slices((inputs, labels, weights)).batch(4)

    distilled = DistilledWindows(Batches(), teacher, 0.25)
    batches = list(distilled.dataset(0, tf.distribute.InputContext()).as_numpy_iterator())
    got_inputs, targets, got_weights = (np.concatenate(part) for part in zip(*batches))
    np.testing.assert_array_equal(got_inputs, inputs)
    np.testing.assert_array_equal(got_weights, weights)
    np.testing.assert_allclose(targets, 0.75 * labels + 0.25 * teacher.predict(inputs, verbose=0), atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-6)
    assert distilled.steps_per_epoch == 2


def test_prune_refuses_bad_requests(trained_run, tmp_path):
    missing = run_main(["prune", "--run", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert missing.returncode == 2
    assert "config.json" in missing.stderr and "not found" in missing.stderr
    same = run_main(["prune", "--run", str(trained_run), "--out", str(trained_run)])
    assert same.returncode == 2 and "overwrite" in same.stderr
    too_much = run_main(
        ["prune", "--run", str(trained_run), "--out", str(tmp_path / "o"), "--sparsity", "1.5"]
    )
    assert too_much.returncode == 2 and "between 0 and 1" in too_much.stderr
    one_epoch = run_main(["prune", "--run", str(trained_run), "--out", str(tmp_path / "o"), "--epochs", "1"])
    assert one_epoch.returncode == 2 and "at least 2 epochs" in one_epoch.stderr
    over = run_main(["prune", "--run", str(trained_run), "--out", str(tmp_path / "o"), "--distill", "2"])
    assert over.returncode == 2 and "from 0 to 1" in over.stderr
    damaged = tmp_path / "damaged"
    shutil.copytree(trained_run, damaged)
    (damaged / "model.keras").write_bytes((trained_run / "model.keras").read_bytes()[:5000])
    line = assert_one_line_error(run_main(["prune", "--run", str(damaged), "--out", str(tmp_path / "o")]), 2)
    assert f"{damaged / 'model.keras'}: damaged" in line and "train the run again" in line
    no_file = tmp_path / "no_file"
    shutil.copytree(trained_run, no_file)
    (no_file / "model.tflite").unlink()
    line = assert_one_line_error(run_main(["prune", "--run", str(no_file), "--out", str(tmp_path / "o")]), 2)
    assert str(no_file / "model.tflite") in line
    assert not (tmp_path / "o").exists()


def test_pruning_with_its_own_seed_fine_tunes_the_trained_weights_on_the_runs_groups(trained_run, pruned_run):
    from training.tf_setup import keras

    out, stdout = pruned_run
    config = json.loads((out / "config.json").read_text())
    base = json.loads((trained_run / "config.json").read_text())
    assert config["pruning"]["from_scratch"] is False and config["pruning"]["seed"] == 7
    # another seed, the same held-out groups: the pruned run is scored on the run's test clips
    assert (config["seed"], config["split_seed"]) == (7, base["seed"])
    assert [c.record.path for c in split_clips(out, split="test", sr=16000)] == [
        c.record.path for c in split_clips(trained_run, split="test", sr=16000)
    ]
    assert "same as dense" in stdout

    def stem(run):
        return (
            keras.models.load_model(run / "model.keras", compile=False)
            .get_layer("stem_conv")
            .get_weights()[0]
        )

    # The stem is never pruned: fine-tuned, it stays near the trained kernel.
    assert np.corrcoef(stem(trained_run).ravel(), stem(out).ravel())[0, 1] > 0.9


def test_pruning_from_scratch_starts_from_new_weights_at_the_runs_learning_rate(trained_run, tmp_path):
    from sensing.cli.app import build_parser
    from sensing.cli.training import prune_settings
    from training.audio.config import AudioTrainConfig
    from training.audio.prune import starting_model

    def settings(*options):
        args = build_parser().parse_args(
            ["prune", "--run", str(trained_run), "--out", str(tmp_path), *options]
        )
        return prune_settings(args, "audio")

    base = AudioTrainConfig.read(trained_run / "config.json", out=str(tmp_path))
    scratch = settings("--from-scratch")
    assert scratch.from_scratch and scratch.learning_rate == base.learning_rate
    assert settings("--from-scratch", "--learning-rate", "0.01").learning_rate == 0.01
    assert not settings().from_scratch and settings().learning_rate != base.learning_rate

    def stem(from_scratch, seed=base.seed):
        config = dataclasses.replace(base, seed=seed)
        model = starting_model(trained_run, config, from_scratch=from_scratch)
        return model.get_layer("stem_conv").get_weights()[0].ravel()

    trained = stem(False)
    new = stem(True)
    assert abs(np.corrcoef(trained, new)[0, 1]) < 0.5
    np.testing.assert_array_equal(stem(True), new)  # drawn from the run's seed
    assert not np.array_equal(stem(True, seed=7), new)


def _verdict_agreement(scores, fires, threshold):
    return np.mean((scores >= threshold) == fires)


def test_thresholds_matched_to_the_dense_model_agree_with_it_best(trained_run, pruned_run, tmp_path):
    """--thresholds dense (the pruned run, above): on the validation clips the run calibrates on,
    no other threshold makes the pruned file's verdicts agree more often with the dense file's."""
    from sensing.audio.model_file import read_metadata
    from training.audio.config import AudioTrainConfig
    from training.audio.run_data import calibration_scores, load_run_data

    out = pruned_run[0]
    pruned, dense = (
        AudioClassifier(out / "model_sparse.tflite"),
        AudioClassifier(trained_run / "model.tflite"),
    )
    assert read_metadata(out / "model_sparse.tflite").extra["thresholds_from"] == "dense"
    assert pruned.metadata.thresholds == read_metadata(out / "model.tflite").thresholds
    data = load_run_data(AudioTrainConfig.read(out / "config.json", out=str(tmp_path)), tmp_path)
    pruned_scores, _ = calibration_scores(data.validation, pruned.predict_windows)
    dense_scores, _ = calibration_scores(data.validation, dense.predict_windows)
    for label, threshold in pruned.metadata.thresholds.items():
        column = data.labels.index(label)
        fires = dense_scores[:, column] >= dense.metadata.thresholds[label]
        best = _verdict_agreement(pruned_scores[:, column], fires, threshold)
        others = [_verdict_agreement(pruned_scores[:, column], fires, t) for t in np.linspace(0, 1, 201)]
        assert best >= max(others) - 1 / len(fires), label


def test_bench_times_dense_and_sparse_side_by_side(pruned_run):
    out, _ = pruned_run
    result = run_cli(
        [
            "bench",
            "--model",
            str(out / "model.tflite"),
            str(out / "model_sparse.tflite"),
            "--seconds",
            "5",
            "--json",
        ]
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["model"].rsplit("/", 1)[-1] for row in rows] == ["model.tflite", "model_sparse.tflite"]
    assert rows[0]["xnnpack_sparse"] is False and rows[1]["xnnpack_sparse"] is True
    assert rows[0]["speed_vs_first"] == 1.0 and rows[1]["speed_vs_first"] > 0


def test_check_sparse_command_gives_the_verdict_as_exit_status(pruned_run, tmp_path):
    out, _ = pruned_run
    ready = run_cli(["check-sparse", str(out / "model_sparse.tflite")])
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "XNNPACK will run" in ready.stdout and "block5_project" in ready.stdout
    dense = run_cli(["check-sparse", str(out / "model.tflite")])
    assert dense.returncode == 1 and "DENSIFY" in dense.stdout
    as_json = run_cli(["check-sparse", str(out / "model_sparse.tflite"), "--json"])
    report = json.loads(as_json.stdout)
    assert report["sparse_ready"] is True and len(report["convs"]) == 13
    broken = tmp_path / "broken.tflite"
    broken.write_bytes((out / "model_sparse.tflite").read_bytes()[:300])
    unreadable = run_cli(["check-sparse", str(broken)])
    assert unreadable.returncode == 2 and "error:" in unreadable.stderr


def test_a_run_pruned_before_a_setting_existed_is_still_reused(tmp_path):
    from training.pruning import pruned_with
    from training.run_settings import AudioPruneSettings

    settings = AudioPruneSettings()
    recorded = {key: value for key, value in settings.to_dict().items() if key != "from_scratch"}
    run = tmp_path / "pruned"
    run.mkdir()
    config = {"status": "finished", "base_run": str(tmp_path / "base"), "pruning": recorded}
    (run / "config.json").write_text(json.dumps(config))
    assert pruned_with(run, tmp_path / "base", settings)
    assert not pruned_with(run, tmp_path / "base", AudioPruneSettings(from_scratch=True))
    assert not pruned_with(run, tmp_path / "other", settings)


def test_a_run_pruned_with_the_base_runs_own_seed_by_number_is_reused(tmp_path):
    from training.pruning import pruned_with
    from training.run_settings import AudioPruneSettings

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"status": "finished", "seed": 3}))
    run = tmp_path / "pruned"
    run.mkdir()
    recorded = AudioPruneSettings(seed=3).to_dict()
    (run / "config.json").write_text(
        json.dumps({"status": "finished", "base_run": str(base), "pruning": recorded})
    )
    assert pruned_with(run, base, AudioPruneSettings())  # seed None: the base run's 3
    assert pruned_with(run, base, AudioPruneSettings(seed=3))
    assert not pruned_with(run, base, AudioPruneSettings(seed=4))


def test_pruning_sweep_refuses_a_distill_share_out_of_range_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "pruning_sweep.py"), "--base", str(tmp_path / "base")]
        + ["--out", str(tmp_path / "sweep"), "--distill", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--distill: must be from 0 to 1, got 2" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "sweep").exists()
