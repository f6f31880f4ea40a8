"""Magnitude pruning of the 1x1 convolutions, the layers XNNPACK's sparse kernels compute.

Shared by ``sensing prune`` for audio runs (:mod:`training.audio.prune`) and sleep runs
(:mod:`training.radar.prune`): tfmot's ``PruneForLatencyOnXNNPack`` policy wraps the 1x1
convolutions (and checks that the rest of the graph fits XNNPACK's sparse path), sparsity
rises from 0 to the target along tfmot's polynomial schedule, and the wrappers are stripped
before export.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensing.errors import SensingError
from sensing.run_folder import CONFIG, KERAS_MODEL, RunFolder
from training.checkpoints import load_keras_model, save_keras_model
from training.epoch_loop import BestEpochReport, compile_for_training, train_epochs
from training.run_settings import PruneSettings
from training.tf_setup import keras


def trained_model(base_run: Path, build: Callable[[int], keras.Model]) -> keras.Model:
    """The run's best Keras model, rebuilt by ``build(outputs)`` from the current architecture
    code and given the saved weights.

    Raises:
        SensingError: no ``model.keras`` in the run, or weights that do not fit the architecture.
    """
    checkpoint = base_run / KERAS_MODEL
    if not checkpoint.is_file():
        raise SensingError(
            f"{checkpoint}: not found; prune needs the Keras model a training run saves beside model.tflite"
        )
    trained = load_keras_model(checkpoint)
    model = build(trained.output_shape[-1])
    try:
        model.set_weights(trained.get_weights())
    except ValueError as error:
        raise SensingError(
            f"{checkpoint}: its weights do not fit the architecture recorded in {base_run / CONFIG} ({error})"
        ) from None
    return model


def pointwise_kernels(model: keras.Model) -> dict[str, np.ndarray]:
    """Each 1x1 convolution's kernel, by layer name."""
    return {
        layer.name: layer.get_weights()[0]
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (1, 1)
    }


def one_by_one_sparsity(model: keras.Model) -> dict[str, float]:
    """Share of zero weights in each 1x1 convolution's kernel, by layer name."""
    return {name: float(np.mean(kernel == 0)) for name, kernel in pointwise_kernels(model).items()}


def overall_sparsity(model: keras.Model) -> float:
    """Share of zero weights over all 1x1 convolution kernels together."""
    kernels = pointwise_kernels(model).values()
    return float(sum(np.sum(k == 0) for k in kernels) / sum(k.size for k in kernels))


def wrap_for_pruning(model: keras.Model, settings: PruneSettings, steps: dict) -> keras.Model:
    """``model`` with its 1x1 convolutions wrapped for magnitude pruning on the schedule
    ``steps`` (:meth:`PruneSettings.schedule_steps`).

    Raises:
        SensingError: the architecture cannot run sparsely in XNNPACK.
    """
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


def fine_tune_pruned(
    model: keras.Model,
    batches,
    *,
    settings: PruneSettings,
    steps: dict,
    label_smoothing: float,
    checkpoint: Path,
    make_report: Callable[..., BestEpochReport],
    unit: str,
    seed: int = 0,
) -> tuple[keras.Model, BestEpochReport, bool]:
    """Wrap ``model`` for pruning on the schedule ``steps``, fine-tune it on ``batches`` (with
    ``dataset(epoch, context)`` and ``steps_per_epoch``), keep the best eligible pass (stripped, in
    ``checkpoint``) and strip it.

    Args:
        make_report: builds the run kind's report from ``save_best`` and ``first_eligible_epoch``.
        unit: what one pass over the training data is called in the progress line.

    Returns:
        The stripped best model, its report and whether Ctrl-C interrupted fine-tuning.
    """
    steps_per_epoch = batches.steps_per_epoch
    pruned = wrap_for_pruning(model, settings, steps)
    compile_for_training(
        pruned,
        learning_rate=settings.learning_rate,
        steps=settings.epochs * steps_per_epoch,
        label_smoothing=label_smoothing,
    )
    report = make_report(
        save_best=lambda m: save_keras_model(stripped(m), checkpoint),
        first_eligible_epoch=steps["first_eligible_epoch"],
    )
    print(
        f"pruning 1x1 convolutions to {settings.sparsity:.0%} over {steps['end_step']} steps, then "
        f"recovering; {settings.epochs} {unit} of {steps_per_epoch} steps ({unit} from "
        f"{steps['first_eligible_epoch']} can be kept)",
        file=sys.stderr,
    )
    pruned, interrupted = train_epochs(
        pruned, batches, epochs=settings.epochs, report=report, seed=seed, extra_callbacks=(pruning_step(),)
    )
    return stripped(pruned), report, interrupted


def pruning_step() -> keras.callbacks.Callback:
    """The callback that advances the pruning schedule every training step."""
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.UpdatePruningStep()


def stripped(model: keras.Model) -> keras.Model:
    """``model`` without its pruning wrappers (the masked weights kept)."""
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.strip_pruning(model)


def sparsity_summary(model: keras.Model, settings: PruneSettings) -> dict:
    """The target, per-layer and overall share of zero weights of a stripped model's 1x1 convolutions."""
    return {
        "target": settings.sparsity,
        "per_layer": one_by_one_sparsity(model),
        "overall": overall_sparsity(model),
    }


def pruned_with(run: Path, base_run: Path, settings: PruneSettings) -> bool:
    """Whether ``run`` is a finished run pruned from ``base_run`` with exactly ``settings`` (a
    ``seed`` of None, the base run's own, is that seed given by number)."""
    folder = RunFolder(run)
    if not folder.finished():
        return False
    config = folder.config()
    recorded = config.get("pruning", {})
    defaults = type(settings)(sparsity=settings.sparsity).to_dict()  # settings older runs did not record
    base = RunFolder(base_run)
    base_seed = base.config().get("seed") if base.is_run() else None

    def effective(key: str, value: object) -> object:
        return base_seed if key == "seed" and value is None else value

    return Path(config.get("base_run", "")).resolve() == Path(base_run).resolve() and all(
        effective(key, recorded.get(key, defaults[key])) == effective(key, value)
        for key, value in settings.to_dict().items()
    )


def schedule_record(steps: dict, steps_per_epoch: int) -> dict:
    """What a pruned run's ``config.json`` records of its schedule."""
    return {
        "kind": "tfmot PolynomialDecay",
        **steps,
        "steps_per_epoch": steps_per_epoch,
        "layers": "1x1 Conv2D (PruneForLatencyOnXNNPack)",
    }
