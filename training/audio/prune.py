"""``sensing prune``: magnitude-prune a trained audio model so XNNPACK can run it sparsely.

Starting from a finished run, the 1x1 convolutions (the layers XNNPACK's
sparse kernels compute; tfmot's ``PruneForLatencyOnXNNPack`` policy also
checks that the rest of the graph fits that path) are wrapped for magnitude
pruning and fine-tuned on the run's own training clips and split. Sparsity
rises from 0 to the target along a cubic polynomial over the first part of
fine-tuning, then stays fixed while the network recovers; only epochs at the
target sparsity can be kept. The stripped model is exported in every form of
:data:`training.export.FORMATS`, and each file is measured through the TFLite
runtime on the validation and test groups.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.decision import decide
from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.run_folder import CONFIG, INT8_MODEL, KERAS_MODEL, MODEL, SPARSE_MODEL
from training.audio.config import AudioTrainConfig, PruneSettings
from training.audio.metrics import clip_metrics
from training.audio.quantize import (
    export_int8,
    tflite_clip_scores,
)
from training.audio.run_data import RunData, load_run_data
from training.audio.train import EpochReport, compile_for_training, finish_run, write_metrics
from training.checkpoints import load_keras_model, save_keras_model
from training.epoch_loop import run_info, train_epochs
from training.export import export_tflite
from training.model import build_audio_cnn
from training.plots import plot_layer_sparsity
from training.tf_setup import keras

EXPORT_FILES = {
    "float32": MODEL,
    "sparse": SPARSE_MODEL,
    "sparse_fp16": "model_sparse_fp16.tflite",
    "int8": INT8_MODEL,
}
"""File name of each exported form in a pruned run folder."""


def _pointwise_kernels(model: keras.Model) -> dict[str, np.ndarray]:
    """Each 1x1 convolution's kernel, by layer name."""
    return {
        layer.name: layer.get_weights()[0]
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (1, 1)
    }


def one_by_one_sparsity(model: keras.Model) -> dict[str, float]:
    """Share of zero weights in each 1x1 convolution's kernel, by layer name."""
    return {name: float(np.mean(kernel == 0)) for name, kernel in _pointwise_kernels(model).items()}


def _load_trained_model(base_run: Path, config: AudioTrainConfig) -> keras.Model:
    """The run's best Keras model, rebuilt from the current architecture code with its weights."""
    checkpoint = base_run / KERAS_MODEL
    if not checkpoint.is_file():
        raise SensingError(
            f"{checkpoint}: not found; prune needs the Keras model a training run saves beside model.tflite"
        )
    trained = load_keras_model(checkpoint)
    model = build_audio_cnn(
        input_shape=config.features.input_shape, n_classes=trained.output_shape[-1], settings=config.cnn
    )
    try:
        model.set_weights(trained.get_weights())
    except ValueError as error:
        raise SensingError(
            f"{checkpoint}: its weights do not fit the architecture recorded in {base_run / CONFIG} ({error})"
        ) from None
    return model


def _wrap_for_pruning(model: keras.Model, settings: PruneSettings, steps: dict) -> keras.Model:
    import tensorflow_model_optimization as tfmot

    schedule = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=settings.sparsity,
        power=settings.ramp_power,
        begin_step=steps["begin_step"],
        end_step=steps["end_step"],
        frequency=steps["frequency"],
    )
    try:
        return tfmot.sparsity.keras.prune_low_magnitude(
            model, pruning_schedule=schedule, pruning_policy=tfmot.sparsity.keras.PruneForLatencyOnXNNPack()
        )
    except ValueError as error:
        raise SensingError(f"this architecture cannot run sparsely in XNNPACK: {error}") from None


def _strip(model: keras.Model) -> keras.Model:
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.strip_pruning(model)


def measure_exports(paths: dict[str, Path], data: RunData) -> dict:
    """Size and held-out figures of each exported file, run through the TFLite runtime.

    Returns, per form: bytes, gzipped bytes, the backend, test figures (see
    :func:`training.audio.metrics.clip_metrics`), and the share of validation and
    test clips whose decision equals the float32 file's.
    """
    decisions: dict[str, dict[str, list[str]]] = {}
    results = {}
    for form, path in paths.items():
        classifier = AudioClassifier(path)
        metadata = classifier.metadata
        decisions[form] = {}
        for name, evaluation in (("validation", data.validation), ("test", data.test)):
            scores = tflite_clip_scores(classifier, evaluation)
            decisions[form][name] = [
                decide(
                    dict(zip(data.labels, row)),
                    thresholds=metadata.thresholds,
                    negative_label=data.negative_label,
                )
                for row in scores
            ]
            if name == "test":
                figures = clip_metrics(
                    labels=data.labels,
                    true=evaluation.true,
                    predicted=decisions[form][name],
                    scores=scores,
                    negative_label=data.negative_label,
                    categories=evaluation.categories,
                    durations_s=evaluation.durations_s,
                )
        content = path.read_bytes()
        results[form] = {
            "file": path.name,
            "bytes": len(content),
            "gzip_bytes": len(gzip.compress(content, compresslevel=9)),
            "backend": classifier.backend,
            "thresholds": metadata.thresholds,
            "test": {
                "per_class": figures["per_class"],
                **(
                    {
                        "negatives": {
                            key: figures["negatives"][key]
                            for key in ("clips", "false_positives", "false_positive_rate")
                        }
                    }
                    if "negatives" in figures
                    else {}
                ),
            },
        }
    for form in paths:
        results[form]["decisions_equal_to_float32"] = {
            name: round(
                float(np.mean(np.array(decisions[form][name]) == np.array(decisions["float32"][name]))), 4
            )
            for name in ("validation", "test")
        }
    return results


def prune_run(base_run: str | Path, out: str | Path, settings: PruneSettings) -> dict:
    """Prune the model of ``base_run`` into the new run folder ``out``; returns its metrics."""
    base_run, out = Path(base_run), Path(out)
    config = AudioTrainConfig.read(base_run / CONFIG, out=str(out))
    if config.frontend != "mel":
        raise SensingError(
            f"{base_run}: a {config.frontend} run; pruning for XNNPACK's sparse "
            f"inference takes runs trained with --frontend mel"
        )
    model = _load_trained_model(base_run, config)
    make_folder(out)
    info = run_info()
    record = {"base_run": str(base_run), "pruning": settings.to_dict(), **info}
    config.write(out / CONFIG, status="running", **record)
    data = load_run_data(config, out)
    if model.output_shape[-1] != len(data.labels):
        raise SensingError(
            f"{base_run / KERAS_MODEL}: {model.output_shape[-1]} outputs, but the run's clips now have "
            f"{len(data.labels)} labels ({', '.join(data.labels)}); prune a run of the clips as they are"
        )

    steps = settings.schedule_steps(data.windows.steps_per_epoch)
    record["pruning"]["schedule"] = {
        "kind": "tfmot PolynomialDecay",
        **steps,
        "steps_per_epoch": data.windows.steps_per_epoch,
        "layers": "1x1 Conv2D (PruneForLatencyOnXNNPack)",
    }
    config.write(out / CONFIG, status="running", **record)
    keras.utils.set_random_seed(config.seed)
    pruned = _wrap_for_pruning(model, settings, steps)
    compile_for_training(
        pruned,
        learning_rate=settings.learning_rate,
        steps=settings.epochs * data.windows.steps_per_epoch,
        label_smoothing=config.label_smoothing,
    )
    checkpoint = out / KERAS_MODEL
    report = EpochReport(
        validation=data.validation,
        labels=data.labels,
        negative_label=data.negative_label,
        epochs=settings.epochs,
        target_fpr=config.target_fpr,
        save_best=lambda m: save_keras_model(_strip(m), checkpoint),
        first_eligible_epoch=steps["first_eligible_epoch"],
    )
    print(
        f"pruning 1x1 convolutions to {settings.sparsity:.0%} over "
        f"{steps['end_step']} steps, then recovering; {settings.epochs} epochs of "
        f"{data.windows.steps_per_epoch} steps (epochs from {steps['first_eligible_epoch']} can be kept)",
        file=sys.stderr,
    )
    import tensorflow_model_optimization as tfmot

    pruned, interrupted = train_epochs(
        pruned,
        data.windows,
        epochs=settings.epochs,
        report=report,
        extra_callbacks=(tfmot.sparsity.keras.UpdatePruningStep(),),
    )
    model = _strip(pruned)
    sparsity = one_by_one_sparsity(model)
    metrics, metadata = finish_run(
        model,
        data,
        config,
        report=report,
        interrupted=interrupted,
        metadata_extra={"training_command": info["command"], "sparsity_1x1": settings.sparsity},
    )

    paths = {"float32": out / EXPORT_FILES["float32"]}
    for form in ("sparse", "sparse_fp16"):
        paths[form] = export_tflite(model, out / EXPORT_FILES[form], metadata, form=form)
    paths["int8"] = export_int8(
        model,
        out / EXPORT_FILES["int8"],
        metadata,
        data,
        target_fpr=config.target_fpr,
        seed=config.seed,
        windows=settings.int8_windows,
    )
    metrics["sparsity_1x1"] = {
        "target": settings.sparsity,
        "per_layer": sparsity,
        "overall": _overall_sparsity(model),
    }
    metrics["exports"] = measure_exports(paths, data)
    write_metrics(metrics, out)
    plot_layer_sparsity(sparsity, settings.sparsity, out / "sparsity.png")
    config.write(
        out / CONFIG,
        status="interrupted" if interrupted else "finished",
        labels=list(data.labels),
        negative_label=data.negative_label,
        **record,
    )
    return metrics


def _overall_sparsity(model: keras.Model) -> float:
    kernels = _pointwise_kernels(model).values()
    return float(sum(np.sum(k == 0) for k in kernels) / sum(k.size for k in kernels))
