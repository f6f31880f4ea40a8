"""PNG plots of a training run: learning curves and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sensing.files import atomic_path


def save_figure(figure: plt.Figure, path: str | Path, *, dpi: int = 100) -> Path:
    """Lay out ``figure``, write it to ``path`` (PNG) whole or not at all, and close it."""
    figure.tight_layout()
    try:
        with atomic_path(path) as partial:
            figure.savefig(partial, dpi=dpi)
    finally:
        plt.close(figure)
    return Path(path)


def plot_training_curves(
    history: list[dict],
    path: str | Path,
    *,
    score_label: str = "validation: mean target recall at the calibrated threshold",
    accuracy_label: str = "training window accuracy",
) -> Path:
    """Loss and validation selection score per epoch.

    Args:
        history: one dict per epoch with ``loss``, ``accuracy`` and ``validation_score``.
        score_label, accuracy_label: legend entries of the two score lines.
    """
    epochs = [entry["epoch"] for entry in history]
    figure, (loss_axis, score_axis) = plt.subplots(1, 2, figsize=(10, 4))
    loss_axis.plot(epochs, [entry["loss"] for entry in history], marker="o")
    loss_axis.set(title="training loss", xlabel="epoch", ylabel="weighted cross-entropy")
    score_axis.plot(epochs, [entry["accuracy"] for entry in history], marker="o", label=accuracy_label)
    score_axis.plot(epochs, [entry["validation_score"] for entry in history], marker="o", label=score_label)
    score_axis.set(title="quality", xlabel="epoch", ylim=(0, 1.02))
    score_axis.legend(loc="lower right", fontsize=8)
    for axis in (loss_axis, score_axis):
        axis.grid(alpha=0.3)
    return save_figure(figure, path)


def plot_confusion_matrix(
    matrix: list[list[int]], labels: list[str], path: str | Path, *, title: str
) -> Path:
    """Counts with row-normalised shading (rows: true label, columns: decision)."""
    counts = np.array(matrix)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(1.2 * len(labels) + 2.5, 1.0 * len(labels) + 2))
    axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(counts):
        axis.text(
            column,
            row,
            f"{count}\n{shares[row, column]:.0%}",
            ha="center",
            va="center",
            color="white" if shares[row, column] > 0.6 else "black",
            fontsize=9,
        )
    axis.set_xticks(range(len(labels)), labels)
    axis.set_yticks(range(len(labels)), labels)
    axis.set(xlabel="decision", ylabel="true label", title=title)
    return save_figure(figure, path)


def plot_layer_sparsity(sparsity: dict[str, float], target: float, path: str | Path) -> Path:
    """Share of zero weights in each pruned layer, against the target sparsity."""
    names = list(sparsity)
    figure, axis = plt.subplots(figsize=(max(6, 0.45 * len(names) + 2), 4))
    axis.bar(range(len(names)), [sparsity[name] for name in names], color="tab:blue")
    axis.axhline(target, color="tab:red", linestyle="--", label=f"target {target:.0%}")
    axis.axhline(2 / 3, color="grey", linestyle=":", label="XNNPACK's sparse threshold (2/3)")
    axis.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    axis.set(ylim=(0, 1), ylabel="share of zero weights", title="1x1 convolutions after pruning")
    axis.legend(loc="lower right", fontsize=8)
    return save_figure(figure, path)
