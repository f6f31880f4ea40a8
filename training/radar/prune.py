"""``sensing prune`` for a sleep run: magnitude-prune the sleep classifier so XNNPACK runs it sparsely.

Starting from a finished ``sensing train radar`` run, the 1x1 convolutions are
pruned (:mod:`training.pruning`) while the network is fine-tuned on the run's own
training nights, split as the run split them; after each pass the validation
nights are smoothed and scored as in training, and only passes at the target
sparsity can be kept. The new run folder holds the dense ``model.tflite`` and
``model_sparse.tflite`` (the same weights stored sparse, for XNNPACK), and
``metrics.json`` scores both, and the model the run started from, on the same
validation and test nights. With ``distill``, the targets lean on the unpruned
model's scores (:mod:`training.distillation`); with ``seed``, the batch order and
fine-tuning's random draws change while the split stays the run's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.radar.sleep.model import SleepClassifier
from sensing.run_folder import CONFIG, KERAS_MODEL, MODEL, SPARSE_MODEL, RunFolder
from training.checkpoints import deterministic_ops
from training.distillation import DistilledWindows
from training.epoch_loop import run_info
from training.export import export_tflite
from training.plots import plot_layer_sparsity
from training.pruning import (
    fine_tune_pruned,
    schedule_record,
    sparsity_summary,
    trained_model,
)
from training.radar.batches import EpochBatches
from training.radar.config import RadarTrainConfig
from training.radar.train import (
    NIGHTS,
    NightReport,
    RadarRunData,
    build_sleep_model,
    finish_radar_run,
    measure_nights,
    prepare_nights,
    run_data,
)
from training.run_settings import PruneSettings
from training.tf_setup import keras


def _check_base(base_run: Path, config: RadarTrainConfig) -> None:
    """Refuse a run that lacks what pruning reads: its model file and, when simulated, its nights.

    Raises:
        SensingError: naming the missing file or folder.
    """
    if not (base_run / MODEL).is_file():
        raise SensingError(
            f"{base_run / MODEL}: not found; prune scores the model a finished sleep run exported"
        )
    if config.simulate is not None and not (base_run / NIGHTS).is_dir():
        raise SensingError(
            f"{base_run / NIGHTS}: not found; prune fine-tunes on the simulated nights a sleep run keeps "
            "there (a pruned run keeps none: prune the run it came from)"
        )


def _file_figures(path: Path, data: RadarRunData) -> dict:
    """A model file's size and its figures on the run's validation and test nights."""
    return {"file": str(path), "bytes": path.stat().st_size, **measure_nights(SleepClassifier(path), data)}


def prune_radar_run(base_run: str | Path, out: str | Path, settings: PruneSettings) -> dict:
    """Prune the sleep model of ``base_run`` into the new run folder ``out``; returns its metrics."""
    base_run, out = Path(base_run), Path(out)
    config = RadarTrainConfig.read(base_run / CONFIG, out=str(out))
    _check_base(base_run, config)
    model = trained_model(base_run, lambda outputs: build_sleep_model(config))
    make_folder(out)
    record = {"base_run": str(base_run), "pruning": settings.to_dict(), **run_info()}
    config.write(out / CONFIG, status="running", **record)
    # the base run's own nights: simulated ones and processed inputs are reused from its folder
    seed = config.seed if settings.seed is None else settings.seed
    data = run_data(config, prepare_nights(dataclasses.replace(config, out=str(base_run))), batch_seed=seed)
    steps_per_epoch = data.batches.steps_per_epoch
    steps = settings.schedule_steps(steps_per_epoch)
    record["pruning"]["schedule"] = schedule_record(steps, steps_per_epoch)
    config.write(out / CONFIG, status="running", **record)

    deterministic_ops()
    keras.utils.set_random_seed(seed)
    batches: EpochBatches | DistilledWindows = data.batches
    if settings.distill:
        teacher = trained_model(base_run, lambda outputs: build_sleep_model(config))
        batches = DistilledWindows(data.batches, teacher, settings.distill)
    model, report, interrupted = fine_tune_pruned(
        model,
        batches,
        settings=settings,
        steps=steps,
        label_smoothing=config.label_smoothing,
        checkpoint=out / KERAS_MODEL,
        make_report=lambda **schedule: NightReport(
            validation=data.splits["validation"], smoothing=data.smoothing, epochs=settings.epochs, **schedule
        ),
        unit="passes",
        seed=seed,
    )
    metrics, metadata = finish_radar_run(
        model,
        config,
        data,
        report=report,
        interrupted=interrupted,
        command=record["command"],
        metadata_extra={"sparsity_1x1": settings.sparsity},
    )
    sparse = export_tflite(model, out / SPARSE_MODEL, metadata, form="sparse")
    metrics["sparsity_1x1"] = sparsity_summary(model, settings)
    metrics["exports"] = {
        "dense_base": _file_figures(base_run / MODEL, data),
        "float32": _file_figures(out / MODEL, data),
        "sparse": _file_figures(sparse, data),
    }
    RunFolder(out).write_metrics(metrics)
    plot_layer_sparsity(metrics["sparsity_1x1"]["per_layer"], settings.sparsity, out / "sparsity.png")
    config.write(out / CONFIG, status="interrupted" if interrupted else "finished", **record)
    return metrics
