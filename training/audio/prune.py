"""``sensing prune``: magnitude-prune a trained audio model so XNNPACK can run it sparsely.

Starting from a finished run, the 1x1 convolutions (the layers XNNPACK's
sparse kernels compute; tfmot's ``PruneForLatencyOnXNNPack`` policy also
checks that the rest of the graph fits that path) are wrapped for magnitude
pruning and fine-tuned on the run's own training clips and split. Sparsity
rises from 0 to the target along a cubic polynomial over the first part of
fine-tuning, then stays fixed while the network recovers; only epochs at the
target sparsity can be kept; ``from_scratch`` starts instead from new weights, so that the
network is pruned while it learns. With ``distill``, the targets lean on the unpruned
model's scores (:mod:`training.distillation`). The stripped model is exported in every form of
:data:`training.export.FORMATS`, and each file is measured through the TFLite
runtime on the validation and test groups.
"""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

from sensing.audio.classifier import AudioClassifier
from sensing.audio.decision import decide
from sensing.audio.model_file import read_metadata
from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.run_folder import CONFIG, INT8_MODEL, KERAS_MODEL, MODEL, SPARSE_MODEL, RunFolder
from training.audio.agreement import ReferenceDecisions
from training.audio.config import AudioTrainConfig
from training.audio.evaluation_set import keras_predict
from training.audio.metrics import clip_metrics, decision_agreement
from training.audio.quantize import (
    export_int8,
    tflite_clip_scores,
)
from training.audio.run_data import RunData, calibration_scores, load_run_data
from training.audio.train import EpochReport, finish_run
from training.audio.window_stream import TrainingWindows
from training.checkpoints import deterministic_ops
from training.distillation import DistilledWindows
from training.epoch_loop import run_info
from training.export import export_tflite
from training.model import build_audio_cnn
from training.plots import plot_layer_sparsity
from training.pruning import (
    fine_tune_pruned,
    schedule_record,
    sparsity_summary,
    trained_model,
)
from training.run_settings import AudioPruneSettings
from training.tf_setup import keras

EXPORT_FILES = {
    "float32": MODEL,
    "sparse": SPARSE_MODEL,
    "sparse_fp16": "model_sparse_fp16.tflite",
    "int8": INT8_MODEL,
}
"""File name of each exported form in a pruned run folder."""
FROM_SCRATCH_SEED_OFFSET = 1
"""A network pruned from scratch draws its first weights with the run's seed plus this, so that it
does not start where the run's own training started."""


def measure_exports(paths: dict[str, Path], data: RunData, dense: Path) -> dict:
    """Size and held-out figures of each exported file, run through the TFLite runtime.

    Returns, per form: bytes, gzipped bytes, the backend, test figures (see
    :func:`training.audio.metrics.clip_metrics`), and the share of validation and
    test clips whose decision equals the float32 file's and the ``dense`` file's (the model
    pruning started from).
    """
    decisions: dict[str, dict[str, list[str]]] = {}
    results = {}
    for form, path in {**paths, "dense": dense}.items():
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
        if form == "dense":
            continue
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
        for reference in ("float32", "dense"):
            results[form][f"decisions_equal_to_{reference}"] = {
                name: decision_agreement(decisions[form][name], decisions[reference][name])
                for name in ("validation", "test")
            }
    return results


def dense_reference(dense: keras.Model, data: RunData, thresholds: dict[str, float]) -> ReferenceDecisions:
    """The dense model's scores of the run's calibration clips and the ``thresholds`` its file
    decides at: what a pruned model's thresholds are matched to."""
    scores, _ = calibration_scores(data.validation, keras_predict(dense))
    return ReferenceDecisions(scores, thresholds)


def starting_model(base_run: Path, config: AudioTrainConfig, *, from_scratch: bool) -> keras.Model:
    """The network pruning starts from (windows ``config.features.input_shape`` in, class scores
    out): the trained model of ``base_run``, or with ``from_scratch`` the same architecture with new
    weights drawn from ``config.seed``.

    Raises:
        SensingError: the run's ``model.keras`` is missing or damaged.
    """

    def build(outputs: int) -> keras.Model:
        return build_audio_cnn(
            input_shape=config.features.input_shape, n_classes=outputs, settings=config.cnn
        )

    model = trained_model(base_run, build)
    if not from_scratch:
        return model
    keras.utils.set_random_seed((config.seed + FROM_SCRATCH_SEED_OFFSET) % 2**32)
    return build(model.output_shape[-1])


def prune_run(base_run: str | Path, out: str | Path, settings: AudioPruneSettings) -> dict:
    """Prune the model of ``base_run`` into the new run folder ``out``; returns its metrics."""
    base_run, out = Path(base_run), Path(out)
    config = AudioTrainConfig.read(base_run / CONFIG, out=str(out))
    if settings.seed is not None:
        config = dataclasses.replace(config, seed=settings.seed, split_seed=config.group_split_seed)
    if config.frontend != "mel":
        raise SensingError(
            f"{base_run}: a {config.frontend} run; pruning for XNNPACK's sparse "
            f"inference takes runs trained with --frontend mel"
        )

    model = starting_model(base_run, config, from_scratch=settings.from_scratch)
    dense_thresholds = read_metadata(base_run / MODEL).thresholds  # the dense file is read before pruning
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
    record["pruning"]["schedule"] = schedule_record(steps, data.windows.steps_per_epoch)
    config.write(out / CONFIG, status="running", **record)
    deterministic_ops()
    keras.utils.set_random_seed(config.seed)
    needs_dense = settings.distill or settings.thresholds == "dense"
    dense = starting_model(base_run, config, from_scratch=False) if needs_dense else None
    batches: TrainingWindows | DistilledWindows = data.windows
    if settings.distill:
        batches = DistilledWindows(data.windows, dense, settings.distill)
    model, report, interrupted = fine_tune_pruned(
        model,
        batches,
        settings=settings,
        steps=steps,
        label_smoothing=config.label_smoothing,
        checkpoint=out / KERAS_MODEL,
        make_report=lambda **schedule: EpochReport(
            validation=data.validation,
            labels=data.labels,
            negative_label=data.negative_label,
            epochs=settings.epochs,
            target_fpr=config.target_fpr,
            **schedule,
        ),
        unit="epochs",
        seed=config.seed,
    )
    reference = (
        dense_reference(dense, data, dense_thresholds) if dense and settings.thresholds == "dense" else None
    )
    metrics, metadata = finish_run(
        model,
        data,
        config,
        report=report,
        interrupted=interrupted,
        metadata_extra={
            "training_command": info["command"],
            "sparsity_1x1": settings.sparsity,
            "thresholds_from": settings.thresholds,
        },
        reference=reference,
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
        reference=reference,
    )
    metrics["sparsity_1x1"] = sparsity_summary(model, settings)
    metrics["exports"] = measure_exports(paths, data, dense=base_run / MODEL)
    RunFolder(out).write_metrics(metrics)
    plot_layer_sparsity(metrics["sparsity_1x1"]["per_layer"], settings.sparsity, out / "sparsity.png")
    config.write(
        out / CONFIG,
        status="interrupted" if interrupted else "finished",
        labels=list(data.labels),
        negative_label=data.negative_label,
        **record,
    )
    return metrics
