"""What a classifier has to beat: baselines measured on the same split.

    >>> scores = baselines(x_train, y_train, x_test, y_test)
    >>> print(format_baselines(report.accuracy, scores, class_names, "test"))

An accuracy means little on its own. Two baselines, both learned from the
training split, give it something to be compared with:

* the majority-class rate: how often always predicting the class that is
  most frequent in training is right on the evaluated split;
* a standardised scikit-learn logistic regression, fitted on the training
  split's pixels shrunk to `BASELINE_PIXELS` a side, or on features the
  caller already has (e.g. a frozen backbone's cached features).

`baselines` takes arrays; `dataset_baselines` takes batched tf.data
pipelines (or (images, labels) tuples, read with
`zoo.classification.evaluation.labelled_batches`) and fits once for several
splits. `format_baselines` puts them beside the model's accuracy, and
`baseline_warning` says when the model does not beat the majority class.
"""

from __future__ import annotations

import numpy as np

from zoo.classification.evaluation import as_class_indices, labelled_batches
from zoo.errors import EvaluationError

# The logistic baseline sees images shrunk to this many pixels a side: 8x8 RGB
# is 192 numbers, enough for coarse shape and colour and cheap to fit.
BASELINE_PIXELS = 8
# It is fitted on at most this many training examples (a seeded random
# subset), so it stays a few seconds of CPU on any data set.
BASELINE_MAX_TRAIN_EXAMPLES = 10_000


def baselines(train_images, train_labels, eval_images, eval_labels, *, train_features=None,
              eval_features=None, pixel_size: int = BASELINE_PIXELS,
              max_train_examples: int = BASELINE_MAX_TRAIN_EXAMPLES, seed: int = 0) -> dict:
    """What a classifier has to beat on one split, learned from the training split.

        >>> scores = baselines(x_train, y_train, x_test, y_test)
        >>> print(format_baselines(report.accuracy, scores, class_names, "test"))

    Args:
        train_images, eval_images: images (N, H, W, C) or (N, H, W), uint8 or
            0..255 floats; shrunk to `pixel_size` pixels a side for the
            logistic regression. Ignored (pass None) when features are given.
        train_labels, eval_labels: class indices, or one-hot rows.
        train_features, eval_features: (N, D) arrays the logistic regression
            uses instead of pixels, e.g. a frozen backbone's cached features.
            Give both or neither.
        pixel_size: side of the shrunken images.
        max_train_examples: the regression is fitted on at most this many
            training examples, a random subset drawn with `seed`.
        seed: for that subset.

    Returns:
        A dict: `majority_class` (index of the most frequent training class,
        the lowest on a tie), `majority_class_accuracy` (how often it is
        right on the evaluated split), `logistic_accuracy` (a standardised
        scikit-learn logistic regression, fitted on the training split),
        `logistic_input` (what the regression saw, e.g. "8x8x3 pixels"),
        `train_examples` (how many it was fitted on) and `eval_examples`.

    Raises:
        EvaluationError: empty splits, images and labels of different
            lengths, or features given for one split only.
    """
    if (train_features is None) != (eval_features is None):
        raise EvaluationError("Pass both train_features and eval_features to the baselines, "
                              "or neither (then they use downscaled pixels).")
    if train_features is not None:
        train_x = _feature_matrix(train_features, "train_features")
        eval_x = _feature_matrix(eval_features, "eval_features")
        if train_x.shape[1] != eval_x.shape[1]:
            raise EvaluationError(
                f"train_features have {train_x.shape[1]} values per example but eval_features "
                f"{eval_x.shape[1]}; both must come from the same feature extractor.")
        described = f"{train_x.shape[1]} features"
    else:
        train_x = downscaled_pixels(train_images, pixel_size)
        eval_x = downscaled_pixels(eval_images, pixel_size)
        described = _pixels_description(train_images, pixel_size)
    train_y = _baseline_labels(train_labels, len(train_x), "train")
    eval_y = _baseline_labels(eval_labels, len(eval_x), "eval")
    return _fit_and_score(train_x, train_y, {"eval": (eval_x, eval_y)}, described,
                          max_train_examples, seed)["eval"]


def dataset_baselines(train, evaluated, *, pixel_size: int = BASELINE_PIXELS,
                      max_train_examples: int = BASELINE_MAX_TRAIN_EXAMPLES,
                      seed: int = 0) -> dict:
    """`baselines` for batched (images, labels) data, fitted once for several splits.

    Each batch is shrunk as it arrives, so no split is held at full size.

    Args:
        train: a batched tf.data.Dataset of (images, labels), or a tuple of
            numpy arrays (images, labels), as
            `zoo.classification.evaluation.evaluate_classifier` takes.
        evaluated: split name -> data of the same kind, e.g.
            `{"val": val, "test": test}`.
        pixel_size, max_train_examples, seed: as for `baselines`.

    Returns:
        Split name -> the dict `baselines` returns for that split.
    """
    train_x, train_y, described = _dataset_pixels(train, pixel_size, "training")
    splits = {}
    for name, data in evaluated.items():
        eval_x, eval_y, _ = _dataset_pixels(data, pixel_size, name)
        splits[name] = (eval_x, eval_y)
    return _fit_and_score(train_x, train_y, splits, described, max_train_examples, seed)


def beats_majority_class(accuracy: float, scores: dict) -> bool:
    """Whether an accuracy is above the majority-class rate of `baselines(...)`."""
    return float(accuracy) > scores["majority_class_accuracy"]


def baseline_warning(accuracy: float, scores: dict, split: str = "evaluated") -> str | None:
    """The warning for a model that does not beat the majority class, else None.

    Args:
        accuracy: the model's accuracy on the split the baselines scored.
        scores: what `baselines` returned for that split.
        split: its name, for the message.
    """
    if beats_majority_class(accuracy, scores):
        return None
    return (f"The model's {split} accuracy {accuracy:.4f} does not beat the majority-class rate "
            f"{scores['majority_class_accuracy']:.4f}: always predicting the most frequent "
            "training class does as well, so it has learned nothing usable. Check the labels, "
            "the learning rate and the number of epochs.")


def format_baselines(accuracy: float, scores: dict, class_names=None,
                     split: str = "evaluated") -> str:
    """The model's accuracy beside its baselines, with a warning when it loses.

    Args:
        accuracy: the model's accuracy on the split.
        scores: what `baselines` returned for that split.
        class_names: to name the majority class; its index when None.
        split: the split's name, e.g. "test".
    """
    majority = scores["majority_class"]
    if class_names is not None and 0 <= majority < len(class_names):
        majority = class_names[majority]
    rows = [("this model", accuracy),
            (f"majority class ({majority!s}, the most frequent in training)",
             scores["majority_class_accuracy"]),
            (f"logistic regression on {scores['logistic_input']}", scores["logistic_accuracy"])]
    width = max(len(label) for label, _ in rows)
    lines = [f"Accuracy on the {split} split ({scores['eval_examples']} examples) against "
             f"baselines fitted on {scores['train_examples']} training examples:"]
    lines += [f"  {label:<{width}}  {value:.4f}" for label, value in rows]
    warning = baseline_warning(accuracy, scores, split)
    if warning:
        lines.append(f"WARNING: {warning}")
    elif accuracy <= scores["logistic_accuracy"]:
        lines.append(f"Note: a logistic regression on {scores['logistic_input']} does as well as "
                     "this model or better.")
    return "\n".join(lines)


def verdict_line(report, scores: dict, split: str) -> str:
    """One line for the end of a run: the model's accuracy on `split` beside
    both baselines, flagged when it does not beat the majority class.

    Args:
        report: the split's EvaluationReport.
        scores: what `baselines` returned for that split.
        split: "test" or "val".
    """
    flag = "" if beats_majority_class(report.accuracy, scores) else "  <- NOT BETTER THAN CHANCE"
    name = "Validation" if split == "val" else split.capitalize()
    return (f"{name} accuracy: {report.accuracy:.4f} ({report.num_examples} images, "
            f"{len(report.class_names)} classes); majority class "
            f"{scores['majority_class_accuracy']:.4f}, logistic regression on pixels "
            f"{scores['logistic_accuracy']:.4f}{flag}")


def downscaled_pixels(images, size: int = BASELINE_PIXELS) -> np.ndarray:
    """Images shrunk to size x size by averaging blocks of pixels, flattened.

    Args:
        images: (N, H, W, C) or (N, H, W), uint8 or 0..255 floats. Sides
            shorter than `size` are stretched by repeating pixels.
        size: the side of the shrunken images.

    Returns:
        uint8 array (N, size * size * C).
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[0] == 0:
        raise EvaluationError(
            "Images for the pixel baseline must be a non-empty array (N, height, width) or "
            f"(N, height, width, channels); received shape {images.shape}.")
    if int(size) < 1:
        raise EvaluationError(f"pixel_size must be at least 1; received {size}.")
    chunks = []
    # A chunk at a time: float64 copies of a whole split could take gigabytes.
    for start in range(0, len(images), 256):
        chunk = images[start:start + 256].astype(np.float64)
        chunk = _shrink_axis(_shrink_axis(chunk, 1, int(size)), 2, int(size))
        chunks.append(np.clip(np.rint(chunk), 0, 255).astype(np.uint8).reshape(len(chunk), -1))
    return np.concatenate(chunks)


def _shrink_axis(values: np.ndarray, axis: int, size: int) -> np.ndarray:
    length = values.shape[axis]
    if length < size:
        return np.take(values, np.arange(size) * length // size, axis=axis)
    edges = np.arange(size + 1) * length // size  # strictly increasing as length >= size
    shape = [1] * values.ndim
    shape[axis] = size
    return np.add.reduceat(values, edges[:-1], axis=axis) / np.diff(edges).reshape(shape)


def _pixels_description(images, size: int) -> str:
    shape = np.shape(images)
    channels = shape[3] if len(shape) == 4 else 1
    return f"{size}x{size}x{channels} pixels"


def _dataset_pixels(data, size: int, split: str):
    pixels, labels, described = [], [], None
    for images, batch_labels in labelled_batches(data):
        images = np.asarray(images)
        described = described or _pixels_description(images, size)
        pixels.append(downscaled_pixels(images, size))
        labels.append(_baseline_labels(batch_labels, len(images), split))
    if not pixels:
        raise EvaluationError(f"The {split} data for the baselines is empty: it yielded no "
                              "examples.")
    return np.concatenate(pixels), np.concatenate(labels), described


def _feature_matrix(features, name: str) -> np.ndarray:
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2 or not len(matrix):
        raise EvaluationError(f"{name} must be a non-empty (examples, values) array; received "
                              f"shape {matrix.shape}.")
    return matrix


def _baseline_labels(labels, expected: int, split: str) -> np.ndarray:
    labels = np.asarray(labels)
    one_hot_width = labels.shape[1] if labels.ndim == 2 and labels.shape[1] > 1 else 0
    labels = as_class_indices(labels, one_hot_width)
    if len(labels) != expected:
        raise EvaluationError(f"The {split} split has {expected} examples but {len(labels)} "
                              "labels; they must be the same length.")
    if not len(labels):
        raise EvaluationError(f"The {split} split for the baselines is empty.")
    if labels.min() < 0:
        raise EvaluationError(f"Label {int(labels.min())} in the {split} split is not a class "
                              "index; labels must be 0 or more.")
    return labels


def _fit_and_score(train_x, train_y, evaluated: dict, described: str, max_train_examples: int,
                   seed: int) -> dict:
    majority = int(np.argmax(np.bincount(train_y)))  # argmax: the lowest index on a tie
    if len(train_y) > max_train_examples:
        keep = np.random.default_rng(seed).choice(len(train_y), max_train_examples, replace=False)
        train_x, train_y = train_x[keep], train_y[keep]
    predict = _fit_logistic(train_x, train_y)
    return {name: {
        "majority_class": majority,
        "majority_class_accuracy": float(np.mean(eval_y == majority)),
        "logistic_accuracy": float(np.mean(predict(eval_x) == eval_y)),
        "logistic_input": described,
        "train_examples": int(len(train_y)),
        "eval_examples": int(len(eval_y)),
    } for name, (eval_x, eval_y) in evaluated.items()}


def _fit_logistic(train_x, train_y):
    """A standardised logistic regression's predict function."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classes = np.unique(train_y)
    if classes.size < 2:  # nothing to separate: it can only predict that class
        return lambda x: np.full(len(x), classes[0])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    with warnings.catch_warnings():
        # A baseline a little short of convergence is still a fair baseline.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(np.asarray(train_x, dtype=np.float64), train_y)
    return lambda x: model.predict(np.asarray(x, dtype=np.float64))
