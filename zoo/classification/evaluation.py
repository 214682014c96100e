"""Evaluate a classifier on labelled data: accuracy, top-k, per-class scores.

    >>> report = evaluate_classifier(model, val_ds, class_names)
    >>> print(report.format())
    >>> mlflow.log_metrics(report.metrics())

The model runs once over the data; every number comes from those predictions
through `sklearn.metrics`, so they match what scikit-learn users expect:

* precision, recall and F1 per class use `zero_division=0`: a class that is
  never predicted has precision 0, one that never occurs has recall 0. The
  macro averages are plain means over all classes, such classes included.
* top-k accuracy is reported for k = min(top_k, number of classes - 1) and
  left out when that k is below 2. Top-1 is the accuracy, and with k equal to
  the number of classes every example counts as right, which says nothing.
  So with the default top_k=5: 10 classes give top-5, 5 classes top-4,
  4 classes top-3, 3 classes top-2 and 2 classes no top-k at all. The metric
  key names the k used (`top_4_accuracy`), so it is never ambiguous.
* the first `max_misclassified` wrong predictions, in data order, are kept
  with their images for `zoo.classification.plots.misclassified_grid_figure`.

`labelled_batches` reads the same (images, labels) data for other modules;
what a score has to beat is measured in `zoo.classification.baselines`.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from sklearn.metrics import (
    confusion_matrix,
    precision_recall_fscore_support,
    top_k_accuracy_score,
)

from zoo.errors import EvaluationError
from zoo.text import format_table

DEFAULT_TOP_K = 5
DEFAULT_MAX_MISCLASSIFIED = 25
# Batch size used to slice numpy arrays; a tf.data.Dataset keeps its own.
NUMPY_BATCH_SIZE = 32

# MLflow accepts more (colons, any Unicode letter) on some platforms; this
# ASCII subset is valid everywhere. Slashes are replaced too: in a class name
# they would nest the metric in the MLflow UI, and "a//b" is rejected.
_UNSAFE_METRIC_CHARACTERS = re.compile(r"[^A-Za-z0-9_\-. ]")
_MLFLOW_MAX_KEY_LENGTH = 250


@dataclasses.dataclass
class MisclassifiedExample:
    """One example the model got wrong.

    Args:
        index: position of the example in the evaluated data (0-based).
        image: the input image as uint8 pixels (float inputs are rounded and
            clipped to 0..255), shape (height, width, channels).
        true_label: the correct class index.
        predicted_label: the class index the model ranked first.
        confidence: the probability the model gave its (wrong) prediction.
        true_probability: the probability the model gave the correct class.
    """

    index: int
    image: np.ndarray
    true_label: int
    predicted_label: int
    confidence: float
    true_probability: float


@dataclasses.dataclass
class EvaluationReport:
    """Everything `evaluate_classifier` measured.

    Args:
        class_names: name of each class index.
        num_examples: how many examples were evaluated.
        accuracy: fraction of examples whose top prediction is right.
        top_k: the k of `top_k_accuracy`, or None when it is not reported.
        top_k_accuracy: fraction of examples whose class is among the k most
            probable, or None.
        precision, recall, f1: per-class scores, indexed like `class_names`.
        support: per-class number of true examples.
        confusion: counts, rows are true classes, columns predicted ones.
        misclassified: the first wrong predictions, in data order.
    """

    class_names: list[str]
    num_examples: int
    accuracy: float
    top_k: int | None
    top_k_accuracy: float | None
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    confusion: np.ndarray
    misclassified: list[MisclassifiedExample]

    @property
    def macro_precision(self) -> float:
        return float(np.mean(self.precision))

    @property
    def macro_recall(self) -> float:
        return float(np.mean(self.recall))

    @property
    def macro_f1(self) -> float:
        return float(np.mean(self.f1))

    @property
    def weighted_f1(self) -> float:
        """F1 averaged with each class weighted by its support."""
        total = self.support.sum()
        return float(np.dot(self.f1, self.support) / total) if total else 0.0

    def to_dict(self) -> dict[str, float | int]:
        """A flat, JSON-friendly record with the class names as they are.

        Keys: `num_examples`, `accuracy`, `top_<k>_accuracy` (when reported),
        `macro_precision`, `macro_recall`, `macro_f1`, `weighted_f1`, then
        `precision.<class>`, `recall.<class>`, `f1.<class>`, `support.<class>`.
        The confusion matrix is not flat; it is `report.confusion`.
        """
        record: dict[str, float | int] = {"num_examples": int(self.num_examples)}
        record.update(self._summary())
        for index, name in enumerate(self.class_names):
            record[f"precision.{name}"] = float(self.precision[index])
            record[f"recall.{name}"] = float(self.recall[index])
            record[f"f1.{name}"] = float(self.f1[index])
            record[f"support.{name}"] = int(self.support[index])
        return record

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """The scores as floats for `mlflow.log_metrics`.

        Same keys as `to_dict()` without the counts (`num_examples`,
        `support.*`), with class names made valid as MLflow keys: characters
        other than letters, digits, `_ - . ` and space become `_`; names that
        then collide get `_<index>` appended.

        Args:
            prefix: put before every key, e.g. `"val_"` or `"test/"`.
        """
        values = {f"{prefix}{key}": value for key, value in self._summary().items()}
        for index, name in enumerate(metric_safe_class_names(self.class_names)):
            values[f"{prefix}precision.{name}"] = float(self.precision[index])
            values[f"{prefix}recall.{name}"] = float(self.recall[index])
            values[f"{prefix}f1.{name}"] = float(self.f1[index])
        return {key[:_MLFLOW_MAX_KEY_LENGTH]: value for key, value in values.items()}

    def format(self, max_confusion_classes: int = 20) -> str:
        """A readable report: summary, per-class table, confusion matrix.

        Args:
            max_confusion_classes: above this many classes the confusion
                matrix is left out of the text (plot it instead).
        """
        lines = [f"Evaluated {self.num_examples} examples of {len(self.class_names)} classes."]
        summary = [("accuracy", self.accuracy)]
        if self.top_k is not None:
            summary.append((f"top-{self.top_k} accuracy", self.top_k_accuracy))
        summary += [("macro F1", self.macro_f1), ("weighted F1", self.weighted_f1)]
        lines.append(format_table([(label, f"{value:.4f}") for label, value in summary],
                                  indent="  "))
        lines.append("")

        rows = [[name, f"{p:.4f}", f"{r:.4f}", f"{f:.4f}", str(int(s))] for name, p, r, f, s
                in zip(self.class_names, self.precision, self.recall, self.f1, self.support)]
        rows.append(["macro avg", f"{self.macro_precision:.4f}", f"{self.macro_recall:.4f}",
                     f"{self.macro_f1:.4f}", str(int(self.support.sum()))])
        lines.append(format_table(rows, ["class", "precision", "recall", "f1", "support"],
                                  align="lrrrr"))

        if len(self.class_names) <= max_confusion_classes:
            lines += ["", "Confusion matrix (rows: true class, columns: predicted class):"]
            header = ["true \\ predicted", *self.class_names]
            rows = [[name, *(str(int(v)) for v in row)]
                    for name, row in zip(self.class_names, self.confusion)]
            lines.append(format_table(rows, header, align="l" + "r" * len(self.class_names)))
        return "\n".join(lines)

    def _summary(self) -> dict[str, float]:
        values = {"accuracy": float(self.accuracy)}
        if self.top_k is not None:
            values[f"top_{self.top_k}_accuracy"] = float(self.top_k_accuracy)
        values.update(macro_precision=self.macro_precision, macro_recall=self.macro_recall,
                      macro_f1=self.macro_f1, weighted_f1=self.weighted_f1)
        return values


def evaluate_classifier(model, dataset, class_names, top_k: int | None = DEFAULT_TOP_K,
                        max_misclassified: int = DEFAULT_MAX_MISCLASSIFIED) -> EvaluationReport:
    """Run a classifier once over labelled data and measure it.

    Args:
        model: a Keras model (anything with `predict_on_batch`) that returns
            one probability per class, e.g. from `zoo.create_classifier`.
        dataset: a batched `tf.data.Dataset` of (images, labels) (a third
            element, such as sample weights, is ignored), or a tuple of numpy
            arrays (images, labels). Labels are class indices; one-hot labels
            are accepted too.
        class_names: one name per model output, in index order.
        top_k: the k of the top-k accuracy; it is lowered to the number of
            classes minus one and left out below 2 (see the module doc).
            None leaves it out.
        max_misclassified: how many wrong predictions to keep with their
            images, in data order.

    Returns:
        An `EvaluationReport`.

    Raises:
        EvaluationError: no data, unbatched data, labels out of range, or a
            number of class names that differs from the model's outputs.
    """
    class_names = [str(name) for name in class_names]
    num_classes = len(class_names)
    labels, predictions, probabilities, misclassified = [], [], [], []
    seen = 0
    for images, batch_labels in labelled_batches(dataset):
        batch_probabilities = np.asarray(model.predict_on_batch(images), dtype=np.float64)
        batch_labels = as_class_indices(batch_labels, num_classes)
        _check_batch(batch_probabilities, batch_labels, class_names)
        batch_predictions = batch_probabilities.argmax(axis=1)
        wrong = np.flatnonzero(batch_predictions != batch_labels)
        room = max_misclassified - len(misclassified)
        if room > 0 and wrong.size:
            # Only the kept examples' pixels are converted, never the whole set.
            batch_images = np.asarray(images)
            for position in wrong[:room]:
                misclassified.append(MisclassifiedExample(
                    index=seen + int(position),
                    image=_displayable(batch_images[position]),
                    true_label=int(batch_labels[position]),
                    predicted_label=int(batch_predictions[position]),
                    confidence=float(batch_probabilities[position].max()),
                    true_probability=float(
                        batch_probabilities[position, batch_labels[position]]),
                ))
        labels.append(batch_labels)
        predictions.append(batch_predictions)
        probabilities.append(batch_probabilities)
        seen += len(batch_labels)
    if not seen:
        raise EvaluationError("The dataset to evaluate is empty: it yielded no examples.")

    y_true = np.concatenate(labels)
    y_pred = np.concatenate(predictions)
    y_score = np.concatenate(probabilities)
    class_indices = np.arange(num_classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=class_indices, zero_division=0)
    k = effective_top_k(top_k, num_classes)
    return EvaluationReport(
        class_names=class_names,
        num_examples=seen,
        accuracy=float(np.mean(y_true == y_pred)),
        top_k=k,
        top_k_accuracy=(None if k is None else float(
            top_k_accuracy_score(y_true, y_score, k=k, labels=class_indices))),
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        confusion=confusion_matrix(y_true, y_pred, labels=class_indices),
        misclassified=misclassified,
    )


def effective_top_k(top_k: int | None, num_classes: int) -> int | None:
    """The k actually reported for a requested k, or None when there is none.

    Args:
        top_k: the requested k, or None.
        num_classes: the number of classes.
    """
    if top_k is None:
        return None
    k = min(int(top_k), num_classes - 1)
    return k if k >= 2 else None


def metric_safe_class_names(class_names) -> list[str]:
    """Class names turned into valid, distinct MLflow metric key parts.

    Args:
        class_names: the names, in index order.
    """
    safe = [_UNSAFE_METRIC_CHARACTERS.sub("_", str(name)).strip() or f"class_{index}"
            for index, name in enumerate(class_names)]
    counts = {name: safe.count(name) for name in safe}
    return [f"{name}_{index}" if counts[name] > 1 else name for index, name in enumerate(safe)]


def labelled_batches(dataset):
    """Yield (images, labels) batches from a batched tf.data.Dataset or an (images, labels) tuple.

    Args:
        dataset: a batched `tf.data.Dataset` of (images, labels) (further
            elements, such as sample weights, are ignored), or a tuple of
            numpy arrays (images, labels), sliced into batches of
            `NUMPY_BATCH_SIZE`.

    Raises:
        EvaluationError: a tuple that is not (images, labels) or whose parts
            differ in length, or a dataset that is unbatched or does not
            yield (images, labels).
    """
    if isinstance(dataset, (tuple, list)):
        if len(dataset) != 2:
            raise EvaluationError(
                "Pass the data to evaluate as a batched tf.data.Dataset or as a tuple "
                f"(images, labels); received a {type(dataset).__name__} of {len(dataset)} items.")
        images, labels = (np.asarray(part) for part in dataset)
        if len(images) != len(labels):
            raise EvaluationError(
                f"Evaluation data has {len(images)} images but {len(labels)} labels; "
                "they must be the same length.")
        for start in range(0, len(images), NUMPY_BATCH_SIZE):
            stop = start + NUMPY_BATCH_SIZE
            yield images[start:stop], labels[start:stop]
        return
    for element in dataset:
        if not isinstance(element, (tuple, list)) or len(element) < 2:
            raise EvaluationError(
                "The dataset to evaluate must yield (images, labels) batches; it yields "
                f"{type(element).__name__} elements.")
        images, labels = element[0], element[1]
        if np.ndim(labels) == 0:
            raise EvaluationError(
                "The dataset to evaluate yields single examples; batch it first, "
                "e.g. dataset.batch(32).")
        yield images, labels


def as_class_indices(labels, num_classes: int) -> np.ndarray:
    """Labels as int64 class indices, from indices or one-hot rows."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == num_classes:
        return labels.argmax(axis=1)  # one-hot
    labels = labels.reshape(-1)
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise EvaluationError(
                "Evaluation labels must be class indices (or one-hot); found non-integer "
                f"values such as {labels[np.mod(labels, 1) != 0][0]!r}.")
    return labels.astype(np.int64)


def _check_batch(probabilities: np.ndarray, labels: np.ndarray, class_names: list[str]):
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_names):
        per_example = "x".join(str(d) for d in probabilities.shape[1:]) or "1"
        raise EvaluationError(
            f"The model outputs {per_example} values per example but {len(class_names)} "
            "class names were given; pass one name per model output, in index order.")
    if len(labels) != len(probabilities):
        raise EvaluationError(
            f"A batch has {len(probabilities)} images but {len(labels)} labels.")
    out_of_range = labels[(labels < 0) | (labels >= len(class_names))]
    if out_of_range.size:
        raise EvaluationError(
            f"Label {int(out_of_range[0])} is not a class index: with {len(class_names)} "
            f"class names labels must be 0..{len(class_names) - 1}.")


def _displayable(image) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.copy()
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
