"""Evaluation numbers against hand-computed ones, and the figures made from them."""

import json
import math
import re

import numpy as np
import pytest

from pass_through import logit_inputs, pass_through_model
from zoo.errors import ZooError
from zoo.classification.evaluation import (
    EvaluationError,
    evaluate_classifier,
    effective_top_k,
    metric_safe_class_names,
)
from zoo.classification.plots import (
    confusion_matrix_figure,
    learning_curves_figure,
    misclassified_grid_figure,
    save_figure,
)

CLASS_NAMES = ["cat", "dog", "bird"]
# Eight examples. Each "image" is a logit vector (plus a padding value) that a
# pass-through Dense+softmax turns into probabilities: the first choice gets
# logit 3, the second 1, the third 0.
TRUE = [0, 0, 0, 1, 1, 1, 2, 2]
FIRST = [0, 0, 1, 1, 1, 2, 2, 0]
SECOND = [1, 2, 0, 0, 0, 0, 0, 2]
# Hand-computed from the lists above.
#   confusion: true cat -> cat, cat, dog; dog -> dog, dog, bird; bird -> bird, cat
#   accuracy 5/8; precision = recall = f1 = 2/3, 2/3, 1/2; support 3, 3, 2
#   top-2: misses only example 5 (dog, ranked third) -> 7/8
#   misclassified: examples 2, 5 and 7
CONFUSION = [[2, 1, 0], [0, 2, 1], [1, 0, 1]]
PER_CLASS = [2 / 3, 2 / 3, 1 / 2]
TOP_CONFIDENCE = math.exp(3) / (math.exp(3) + math.exp(1) + 1)


@pytest.fixture(scope="module")
def model():
    return pass_through_model()


@pytest.fixture(scope="module")
def data():
    return logit_inputs(FIRST, SECOND), np.array(TRUE)


def test_exact_numbers_from_a_tf_dataset(model, data):
    import tensorflow as tf

    # Batches of 3 split the examples unevenly, across the misclassified ones.
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(3)
    report = evaluate_classifier(model, dataset, CLASS_NAMES)

    assert report.num_examples == 8
    assert report.accuracy == pytest.approx(5 / 8)
    assert report.top_k == 2 and report.top_k_accuracy == pytest.approx(7 / 8)
    np.testing.assert_array_equal(report.confusion, CONFUSION)
    np.testing.assert_allclose(report.precision, PER_CLASS)
    np.testing.assert_allclose(report.recall, PER_CLASS)
    np.testing.assert_allclose(report.f1, PER_CLASS)
    np.testing.assert_array_equal(report.support, [3, 3, 2])
    assert report.macro_f1 == pytest.approx(11 / 18)
    assert report.weighted_f1 == pytest.approx((2 / 3 * 6 + 1 / 2 * 2) / 8)

    wrong = report.misclassified
    assert [(e.index, e.true_label, e.predicted_label) for e in wrong] == [
        (2, 0, 1), (5, 1, 2), (7, 2, 0)]
    assert all(e.confidence == pytest.approx(TOP_CONFIDENCE, rel=1e-5) for e in wrong)
    assert wrong[1].true_probability == pytest.approx(1 / (math.exp(3) + math.exp(1) + 1),
                                                      rel=1e-5)
    # The kept "image" is the input that was misclassified.
    np.testing.assert_array_equal(wrong[0].image, np.rint(data[0][2]).astype(np.uint8))


def test_numpy_tuple_gives_the_same_report(model, data):
    report = evaluate_classifier(model, data, CLASS_NAMES, max_misclassified=2)
    assert report.accuracy == pytest.approx(5 / 8)
    np.testing.assert_array_equal(report.confusion, CONFUSION)
    assert [e.index for e in report.misclassified] == [2, 5]


def test_one_hot_labels_are_accepted(model, data):
    one_hot = np.eye(3)[data[1]]
    report = evaluate_classifier(model, (data[0], one_hot), CLASS_NAMES)
    np.testing.assert_array_equal(report.confusion, CONFUSION)


def test_to_dict_and_mlflow_metrics(model, data):
    report = evaluate_classifier(model, data, CLASS_NAMES)
    record = report.to_dict()
    json.dumps(record)  # JSON-friendly
    assert record["accuracy"] == pytest.approx(0.625)
    assert record["top_2_accuracy"] == pytest.approx(0.875)
    assert record["precision.bird"] == pytest.approx(0.5)
    assert record["recall.dog"] == pytest.approx(2 / 3)
    assert record["f1.cat"] == pytest.approx(2 / 3)
    assert record["support.bird"] == 2 and record["num_examples"] == 8
    assert record["macro_f1"] == pytest.approx(11 / 18)

    metrics = report.metrics()
    assert all(isinstance(value, float) for value in metrics.values())
    assert "support.cat" not in metrics and "num_examples" not in metrics
    assert metrics["f1.bird"] == pytest.approx(0.5)
    assert set(report.metrics(prefix="val_")) == {f"val_{key}" for key in metrics}


def test_metric_keys_are_valid_for_mlflow():
    names = ["cat/dog", "a+b", "a*b", "", "élan", "ok name-1.2"]
    safe = metric_safe_class_names(names)
    assert safe == ["cat_dog", "a_b_1", "a_b_2", "class_3", "_lan", "ok name-1.2"]
    assert len(set(safe)) == len(safe)
    for name in safe:
        assert re.fullmatch(r"[A-Za-z0-9_\-. ]+", name)


def test_format_is_a_readable_table(model, data):
    text = evaluate_classifier(model, data, CLASS_NAMES).format()
    assert "Evaluated 8 examples of 3 classes." in text
    assert re.search(r"accuracy\s+0\.6250", text)
    assert re.search(r"top-2 accuracy\s+0\.8750", text)
    assert re.search(r"bird\s+0\.5000\s+0\.5000\s+0\.5000\s+2", text)
    assert re.search(r"macro avg\s+0\.6111\s+0\.6111\s+0\.6111\s+8", text)
    # The confusion matrix rows, true class first.
    assert re.search(r"dog\s+0\s+2\s+1", text)


@pytest.mark.parametrize("num_classes, top_k, expected", [
    (10, 5, 5), (6, 5, 5), (5, 5, 4), (4, 5, 3), (3, 5, 2), (2, 5, None),
    (10, 1, None), (10, None, None), (10, 3, 3),
])
def test_top_k_is_clipped_below_the_number_of_classes(num_classes, top_k, expected):
    assert effective_top_k(top_k, num_classes) == expected


def test_four_classes_report_top_3():
    # Example 0 has its class ranked second, example 1 third, example 2 last.
    first, second = [1, 1, 3, 3], [0, 3, 2, 0]
    inputs = logit_inputs(first, second, num_classes=4)
    inputs[1, 2] = 0.5  # class 2 third for example 1
    inputs[2, 0] = 0.5  # no ties: class 1 is last for example 2
    labels = np.array([0, 2, 1, 3])
    report = evaluate_classifier(pass_through_model(4), (inputs, labels), list("abcd"))
    assert report.top_k == 3
    assert report.accuracy == pytest.approx(1 / 4)
    assert report.top_k_accuracy == pytest.approx(3 / 4)
    assert "top_3_accuracy" in report.to_dict()


def test_two_classes_have_no_top_k():
    inputs = logit_inputs([0, 1], [1, 0], num_classes=2)
    report = evaluate_classifier(pass_through_model(2), (inputs, np.array([0, 0])), ["a", "b"])
    assert report.top_k is None and report.top_k_accuracy is None
    assert not any(key.startswith("top_") for key in report.to_dict())
    assert "top-" not in report.format()


@pytest.mark.parametrize("dataset_kind, class_names, message", [
    ("numpy", ["cat", "dog"], "3 values per example but 2 class names"),
    ("bad_label", CLASS_NAMES, "Label 7 is not a class index"),
    ("unbatched", CLASS_NAMES, "batch it first"),
    ("empty", CLASS_NAMES, "empty"),
])
def test_bad_input_is_a_zoo_error(model, data, dataset_kind, class_names, message):
    import tensorflow as tf

    images, labels = data
    dataset = {
        "numpy": (images, labels),
        "bad_label": (images, np.where(labels == 2, 7, labels)),
        "unbatched": tf.data.Dataset.from_tensor_slices(data),
        "empty": (images[:0], labels[:0]),
    }[dataset_kind]
    with pytest.raises(EvaluationError, match=message) as caught:
        evaluate_classifier(model, dataset, class_names)
    assert isinstance(caught.value, ZooError)


# ---------------------------------------------------------------------------
# Figures


def _check_png(fig, path):
    save_figure(fig, path)
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 1000


def _texts(fig):
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [ax.get_title()] + [t.get_text() for t in ax.texts]
    return texts


def test_confusion_matrix_figure(tmp_path):
    fig = confusion_matrix_figure(np.array(CONFUSION), CLASS_NAMES)
    image = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(image[2], [0.5, 0.0, 0.5])  # rows sum to 1
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == CLASS_NAMES
    _check_png(fig, tmp_path / "confusion.png")

    counts = confusion_matrix_figure(np.array(CONFUSION), CLASS_NAMES, normalize=False)
    assert "2" in _texts(counts)
    # A class without examples gives zeros, not NaN.
    empty_row = confusion_matrix_figure(np.array([[1, 0], [0, 0]]), ["a", "b"])
    assert not np.isnan(empty_row.axes[0].images[0].get_array()).any()


def test_learning_curves_mark_the_phase_boundary(tmp_path):
    history = {
        "loss": [1.0, 0.8, 0.6, 0.5, 0.4, 0.35], "accuracy": [0.5, 0.6, 0.7, 0.75, 0.8, 0.82],
        "val_loss": [1.1, 0.9, 0.7, 0.65, 0.6, 0.58],
        "val_accuracy": [0.45, 0.55, 0.65, 0.7, 0.72, 0.74],
        "learning_rate": [1e-3] * 3 + [1e-5] * 3,
    }
    fig = learning_curves_figure(history, phase_boundaries=[3])
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        x_values = [tuple(line.get_xdata()) for line in ax.lines]
        assert tuple(range(6)) in x_values  # epochs from 0, both phases on one axis
        assert (2.5, 2.5) in x_values  # the boundary, between epochs 2 and 3
        assert any("fine-tuning" in t.get_text() for t in ax.texts)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
    _check_png(fig, tmp_path / "curves.png")

    labelled = learning_curves_figure(history, phase_boundaries=[(2, "unfreeze 2 blocks")])
    assert any("unfreeze 2 blocks" in text for text in _texts(labelled))
    assert "No training history" in _texts(learning_curves_figure({}))[0]


def test_misclassified_grid(model, data, tmp_path):
    report = evaluate_classifier(model, data, CLASS_NAMES)
    # The evaluation "images" are vectors; give them real pixels to draw.
    rng = np.random.default_rng(0)
    for example in report.misclassified:
        example.image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    fig = misclassified_grid_figure(report.misclassified, CLASS_NAMES)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == f"true: cat / pred: dog (p={TOP_CONFIDENCE:.2f})"
    assert len(titles) == 3
    _check_png(fig, tmp_path / "misclassified.png")

    capped = misclassified_grid_figure(report.misclassified, CLASS_NAMES, max_images=2)
    assert len(capped.axes) == 2
    long_names = ["a very long class name indeed", "another long class name"]
    long = misclassified_grid_figure(report.misclassified[:1], long_names + ["x"])
    assert "\n" in long.axes[0].get_title()

    none = misclassified_grid_figure([], CLASS_NAMES)
    assert "No misclassified examples." in _texts(none)
    _check_png(none, tmp_path / "none.png")
