"""Classify image files and folders with a saved classifier: batching and top-k.

    >>> from zoo.classification.predict import predict_paths
    >>> for p in predict_paths("flowers.keras", ["photos/"], top_k=3):
    ...     print(p.path, p.labels[0], p.probabilities[0])

Models and class names load as `zoo.classification.model_io` describes;
files and folders expand as `zoo.data.image_files` describes (a
file PIL cannot read as an image is skipped, whatever its extension). The
`zoo predict` command is in `cli.py`, the CSV form in
`prediction_csv.py`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import warnings
from collections import Counter

import numpy as np

from zoo.errors import PredictError
from zoo.data.image_files import HIDDEN, collect_image_files, read_image
from zoo.classification.model_io import load_model_and_class_names, model_image_size

DEFAULT_TOP_K = 5
DEFAULT_BATCH_SIZE = 32
MAX_LISTED_SKIPS = 5


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The most probable classes of one image.

    Args:
        path: the image file, as found (joined to the folder given).
        labels: class names (or indices as text), most probable first.
        probabilities: the probability of each label, same order.
        class_indices: the class index of each label, same order.
    """

    path: str
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    class_indices: tuple[int, ...]

    def format_line(self) -> str:
        """The path and the `label:probability` pairs, tab-separated."""
        pairs = (f"{label}:{probability:.4f}"
                 for label, probability in zip(self.labels, self.probabilities))
        return "\t".join([self.path, *pairs])


def predict_paths(model, paths, top_k: int = DEFAULT_TOP_K, class_names=None,
                  batch_size: int = DEFAULT_BATCH_SIZE, *, image_size=None, on_skip=None,
                  progress: bool = False) -> list[Prediction]:
    """Classify image files and every image in folders.

    Args:
        model: a Keras classifier returning class probabilities, or a
            MODEL reference as `load_model_and_class_names` takes (its
            class_names.json is then used when class_names is None).
        paths: image files and folders (walked recursively).
        top_k: how many classes to report per image (at most all of them).
        class_names: name of each class index; None gives the indices.
        batch_size: images per model call.
        image_size: (height, width) to resize to; defaults to the model's
            input size.
        on_skip: called as on_skip(path, reason) for each hidden entry,
            entry that is no regular file, or file that is not a usable
            image. Without it, one warning sums them up.
        progress: show a progress bar on stderr.

    Returns:
        One `Prediction` per usable image, in input order.

    Raises:
        PredictError: a path is missing, no usable image was found, the
            model cannot be loaded, or an argument is out of range.
    """
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise PredictError(f"top_k must be a positive integer. Received: top_k={top_k!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise PredictError(
            f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    # One path on its own is a common slip; iterating it would give characters.
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    skipped = []

    def skip(path, reason):
        skipped.append((path, reason))
        if on_skip is not None:
            on_skip(path, reason)

    # Inputs first: a typo in a path should not cost a model load.
    files = collect_image_files(paths, skip)
    if isinstance(model, (str, os.PathLike)):
        model, stored_names = load_model_and_class_names(model)
        if class_names is None:
            class_names = stored_names
    size = tuple(image_size) if image_size is not None else model_image_size(model)

    predictions = []
    bar = _ProgressBar(len(files)) if progress else None
    batch_paths, batch_images = [], []
    for done, path in enumerate(files, start=1):
        image = _read_or_skip(path, size, skip)
        if image is not None:
            batch_paths.append(path)
            batch_images.append(image)
        if len(batch_images) == batch_size or (done == len(files) and batch_images):
            # Pad a short last batch only when the full-size one already ran.
            pad_to = batch_size if len(predictions) else len(batch_images)
            probabilities = _predict_batch(model, batch_images, pad_to)
            predictions += top_k_predictions(batch_paths, probabilities, top_k, class_names)
            batch_paths, batch_images = [], []
        if bar is not None:
            bar.update(done)

    if not predictions:
        raise PredictError(
            f"No usable image found in {', '.join(map(str, paths))} "
            f"({skip_summary(skipped) or 'nothing to read'}).")
    if skipped and on_skip is None:
        warnings.warn(f"zoo predict {skip_summary(skipped)}", stacklevel=2)
    return predictions


def top_k_predictions(paths, probabilities: np.ndarray, top_k: int,
                      class_names=None) -> list[Prediction]:
    """The `top_k` most probable classes of each row of `probabilities`.

    Args:
        paths: the image of each row.
        probabilities: (images, classes) class probabilities.
        top_k: classes per image; capped at the number of classes.
        class_names: name of each class index; None gives the indices.

    Raises:
        PredictError: class_names does not name every class.
    """
    num_classes = probabilities.shape[-1]
    if class_names is not None and len(class_names) != num_classes:
        raise PredictError(f"{len(class_names)} class names were given but the model has "
                           f"{num_classes} outputs; name every output, in order.")
    k = min(top_k, num_classes)
    # A stable sort keeps equal probabilities in class order.
    ranked = np.argsort(-probabilities, axis=-1, kind="stable")[:, :k]
    results = []
    for path, row, order in zip(paths, probabilities, ranked):
        results.append(Prediction(
            path=path,
            labels=tuple(str(class_names[i]) if class_names is not None else str(int(i))
                         for i in order),
            probabilities=tuple(float(row[i]) for i in order),
            class_indices=tuple(int(i) for i in order),
        ))
    return results


def skip_summary(skipped) -> str:
    """'skipped 3 files: 2 hidden, 1 not an image (a.txt: not an image (...))'.

    Args:
        skipped: (path, reason) pairs, as on_skip receives them.
    """
    if not skipped:
        return ""
    from zoo.data.scan import skip_category

    # Counted by the same short labels the data layer's reports use.
    counts = Counter(HIDDEN if reason == HIDDEN else skip_category(reason)
                     for _, reason in skipped)
    order = sorted(counts, key=lambda category: category != HIDDEN)  # hidden first
    parts = [f"{counts[category]} {category}" for category in order]
    listed = [(path, reason) for path, reason in skipped if reason != HIDDEN]
    text = ", ".join(parts)
    if listed:
        shown = "; ".join(f"{path}: {reason}" for path, reason in listed[:MAX_LISTED_SKIPS])
        more = (f"; and {len(listed) - MAX_LISTED_SKIPS} more"
                if len(listed) > MAX_LISTED_SKIPS else "")
        text += f" ({shown}{more})"
    noun = "file" if len(skipped) == 1 else "files"
    return f"skipped {len(skipped)} {noun}: {text}"


def _predict_batch(model, images: list, pad_to: int) -> np.ndarray:
    """Class probabilities of a list of images, one model call on `pad_to` images."""
    batch = np.stack(images)
    missing = pad_to - len(batch)
    if missing > 0:
        # A batch of a new size makes Keras trace the model again, which
        # takes longer than predicting a few blank images.
        batch = np.concatenate([batch, np.zeros((missing, *batch.shape[1:]), batch.dtype)])
    return np.asarray(model.predict_on_batch(batch))[:len(images)]


def _read_or_skip(path: str, size, skip) -> np.ndarray | None:
    from zoo.data.images import UnusableImage

    try:
        return read_image(path, size)
    except UnusableImage as exc:
        skip(path, str(exc))
        return None


class _ProgressBar:
    """keras' Progbar, drawn on stderr so that stdout stays pure results."""

    def __init__(self, total: int):
        import keras

        with contextlib.redirect_stdout(sys.stderr):
            self._bar = keras.utils.Progbar(total, unit_name="image")

    def update(self, done: int) -> None:
        with contextlib.redirect_stdout(sys.stderr):
            self._bar.update(done)
