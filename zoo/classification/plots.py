"""Figures for a trained classifier: confusion matrix, learning curves, mistakes.

Each function returns a `matplotlib.figure.Figure`; the caller saves it
(`save_figure`) or logs it (`mlflow.log_figure(fig, "confusion.png")`).

Figures are built with the object-oriented API on an Agg canvas, never
through `pyplot`: no backend is switched, no global figure list grows (a
training loop that makes a figure per epoch leaks nothing), and it works on
machines without a display.
"""

from __future__ import annotations

import math
import os
import textwrap

import numpy as np

FINE_TUNING_LABEL = "fine-tuning"
# Keras History keys that are settings, not scores worth a panel.
_NOT_PLOTTED = ("lr", "learning_rate")
# Above this many classes, cell annotations would be unreadable.
_MAX_ANNOTATED_CLASSES = 30
# Characters per line of a misclassified image's title at its font size.
_TITLE_WIDTH = 34


def _new_figure(width: float, height: float):
    # Imported here so that `import zoo.classification.plots` stays cheap and changes nothing.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(fig, path, dpi: int = 100):
    """Write a figure to a file; the format follows the extension (.png, .svg, .pdf).

    Args:
        fig: a matplotlib Figure.
        path: where to write; missing parent folders are created.
        dpi: resolution of raster formats.

    Returns:
        The path written, as given.
    """
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def confusion_matrix_figure(confusion, class_names, normalize: bool = True):
    """A heat map of a confusion matrix (rows: true class, columns: predicted).

    Args:
        confusion: square array of counts, e.g. `EvaluationReport.confusion`.
        class_names: one name per row, in index order.
        normalize: divide each row by its total, so a cell is the fraction of
            that true class predicted as the column's class and the diagonal
            is the per-class recall. Rows without examples stay 0.

    Returns:
        A matplotlib Figure.
    """
    counts = np.asarray(confusion)
    num_classes = len(class_names)
    if counts.shape != (num_classes, num_classes):
        raise ValueError(f"confusion must be {num_classes}x{num_classes} to match "
                         f"class_names; received shape {counts.shape}.")
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        values = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float),
                           where=totals > 0)
    else:
        values = counts

    side = min(4 + 0.45 * num_classes, 24)
    fig = _new_figure(side + 1.5, side)
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, shrink=0.8,
                 label="fraction of the true class" if normalize else "examples")
    ticks = np.arange(num_classes)
    ax.set_xticks(ticks, labels=class_names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(ticks, labels=class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix" + (" (normalized per true class)" if normalize else ""))

    if num_classes <= _MAX_ANNOTATED_CLASSES:
        # Dark text on light cells, light text on dark ones.
        threshold = (values.max() or 1) / 2
        for row in range(num_classes):
            for column in range(num_classes):
                value = values[row, column]
                text = f"{value:.2f}" if normalize else f"{int(value)}"
                ax.text(column, row, text, ha="center", va="center", fontsize=8,
                        color="white" if value > threshold else "black")
    return fig


def learning_curves_figure(history, phase_boundaries=()):
    """Loss and other metrics per epoch, training and validation, on one x-axis.

    Args:
        history: metric name -> per-epoch values, across all phases, e.g.
            the `History.history` dicts of both fits concatenated. A `val_`
            key is drawn in the panel of the metric it validates; the
            learning rate is not drawn.
        phase_boundaries: epochs (0-based index of the first epoch of the
            new phase) where training changed, e.g. `[10]` when fine-tuning
            started after 10 epochs of head training. Each is an int,
            labelled "fine-tuning", or an (epoch, label) pair. A dashed line
            is drawn between the last epoch of one phase and the first of
            the next (x = epoch - 0.5).

    Returns:
        A matplotlib Figure with a panel per metric, loss first.
    """
    history = {key: list(values) for key, values in dict(history).items()}
    names = [key for key in history
             if not key.startswith("val_") and key not in _NOT_PLOTTED]
    # A validation metric logged without its training twin still gets a panel.
    names += [key[4:] for key in history if key.startswith("val_") and key[4:] not in names]
    names.sort(key=lambda name: name != "loss")  # stable: loss first, then as given
    boundaries = [(b, FINE_TUNING_LABEL) if isinstance(b, (int, np.integer)) else tuple(b)
                  for b in phase_boundaries]

    fig = _new_figure(5.5 * max(len(names), 1), 4)
    if not names:
        _say(fig, "No training history to plot.")
        return fig
    from matplotlib.ticker import MaxNLocator

    for position, name in enumerate(names, start=1):
        ax = fig.add_subplot(1, len(names), position)
        for key, label, style in ((name, "train", "-o"), (f"val_{name}", "validation", "-s")):
            if key in history:
                values = np.asarray(history[key], dtype=float)
                ax.plot(np.arange(len(values)), values, style, markersize=3, label=label)
        for epoch, label in boundaries:
            ax.axvline(epoch - 0.5, color="gray", linestyle="--", linewidth=1)
            # Near the top, just right of the line, whatever the y range is.
            ax.text(epoch - 0.5, 0.98, f" {label}", transform=ax.get_xaxis_transform(),
                    ha="left", va="top", fontsize=8, color="dimgray")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_title(name.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    return fig


def misclassified_grid_figure(examples, class_names, max_images: int = 25):
    """A grid of wrongly classified images titled "true: X / pred: Y (p=0.87)".

    Args:
        examples: `EvaluationReport.misclassified`, or any objects with
            `image` (HxWx3 or HxW, uint8 or 0..255 floats), `true_label`,
            `predicted_label` and `confidence`.
        class_names: name of each class index.
        max_images: at most this many are shown, the first ones.

    Returns:
        A matplotlib Figure; with no examples it says that nothing was
        misclassified.
    """
    shown = list(examples)[:max_images]
    if not shown:
        fig = _new_figure(5, 2)
        _say(fig, "No misclassified examples.")
        return fig
    columns = math.ceil(math.sqrt(len(shown)))
    rows = math.ceil(len(shown) / columns)
    fig = _new_figure(2.3 * columns, 2.5 * rows)
    for position, example in enumerate(shown, start=1):
        ax = fig.add_subplot(rows, columns, position)
        image = np.asarray(example.image)
        if image.dtype != np.uint8:
            image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        true_part = f"true: {class_names[example.true_label]}"
        predicted_part = (f"pred: {class_names[example.predicted_label]} "
                          f"(p={example.confidence:.2f})")
        title = f"{true_part} / {predicted_part}"
        if len(title) > _TITLE_WIDTH:
            # Too wide for one line: it would run into the neighbouring image.
            title = "\n".join([*textwrap.wrap(f"{true_part} /", _TITLE_WIDTH),
                               *textwrap.wrap(predicted_part, _TITLE_WIDTH)])
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    fig.suptitle(f"Misclassified examples (first {len(shown)})")
    return fig


def _say(fig, message: str) -> None:
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=12)
