"""Baselines against hand-computed ones: majority class, logistic regression, warnings."""

import re

import numpy as np
import pytest

from pass_through import logit_inputs, pass_through_model
from zoo.classification.baselines import (
    baseline_warning,
    baselines,
    dataset_baselines,
    downscaled_pixels,
    format_baselines,
)
from zoo.classification.evaluation import evaluate_classifier
from zoo.errors import EvaluationError

CLASS_NAMES = ["cat", "dog", "bird"]


def _colour_images(labels, seed=0, size=12):
    """Noisy images whose class is which of the three channels is bright."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 90, (len(labels), size, size, 3)).astype(np.uint8)
    for channel in range(3):
        images[np.asarray(labels) == channel, :, :, channel] += 160
    return images


def test_majority_rate_on_an_imbalanced_set():
    # Training: class 2 is the most frequent (5 of 9). Evaluated: 3 of 8 are class 2.
    train_labels = np.array([0, 2, 2, 1, 2, 0, 2, 2, 1])
    eval_labels = np.array([2, 0, 0, 1, 2, 0, 2, 1])
    scores = baselines(_colour_images(train_labels), train_labels,
                       _colour_images(eval_labels, seed=1), eval_labels)
    assert scores["majority_class"] == 2
    assert scores["majority_class_accuracy"] == pytest.approx(3 / 8)
    assert (scores["train_examples"], scores["eval_examples"]) == (9, 8)
    assert scores["logistic_input"] == "8x8x3 pixels"
    # The majority class comes from training, not from the evaluated split (where 0 ties 2).
    one_hot = np.eye(3)[eval_labels]
    assert baselines(None, train_labels, None, one_hot, train_features=np.ones((9, 2)),
                     eval_features=np.ones((8, 2)))["majority_class_accuracy"] == pytest.approx(
                         3 / 8)


def test_logistic_baseline_beats_chance_on_separable_images():
    rng = np.random.default_rng(0)
    train_labels, eval_labels = rng.integers(0, 3, 90), rng.integers(0, 3, 30)
    scores = baselines(_colour_images(train_labels), train_labels,
                       _colour_images(eval_labels, seed=1), eval_labels, pixel_size=4)
    assert scores["logistic_accuracy"] >= 0.9 > scores["majority_class_accuracy"]
    assert scores["logistic_input"] == "4x4x3 pixels"

    # Features instead of pixels, and a cap on the training examples.
    features = np.eye(3)[train_labels] + rng.normal(0, 0.1, (90, 3))
    eval_features = np.eye(3)[eval_labels] + rng.normal(0, 0.1, (30, 3))
    scores = baselines(None, train_labels, None, eval_labels, train_features=features,
                       eval_features=eval_features, max_train_examples=40)
    assert scores["logistic_accuracy"] >= 0.9
    assert (scores["logistic_input"], scores["train_examples"]) == ("3 features", 40)


def test_dataset_baselines_match_the_arrays():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    train_labels, eval_labels = rng.integers(0, 3, 40), rng.integers(0, 3, 20)
    train = (_colour_images(train_labels), train_labels)
    evaluated = (_colour_images(eval_labels, seed=2), eval_labels)
    expected = baselines(*train, *evaluated)
    from_datasets = dataset_baselines(
        tf.data.Dataset.from_tensor_slices(train).batch(7),
        {"val": tf.data.Dataset.from_tensor_slices(evaluated).batch(6), "test": evaluated})
    assert from_datasets == {"val": expected, "test": expected}


def test_downscaled_pixels_average_blocks():
    image = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    # 2x2 blocks of a greyscale image: means 2.5, 4.5, 10.5, 12.5, rounded half to even.
    np.testing.assert_array_equal(downscaled_pixels(image, 2), [[2, 4, 10, 12]])
    # A side shorter than the target is stretched by repeating pixels.
    np.testing.assert_array_equal(downscaled_pixels(np.array([[[7, 9]]]), 2), [[7, 9, 7, 9]])
    assert downscaled_pixels(np.zeros((3, 33, 20, 3)), 8).shape == (3, 8 * 8 * 3)


def test_warning_for_a_constant_predictor_and_not_for_a_good_one():
    train_labels = np.array([1, 1, 1, 0, 2, 1])
    eval_labels = np.array([1, 0, 1, 2, 1, 1, 0, 2])
    eval_images = _colour_images(eval_labels, seed=3)
    scores = baselines(_colour_images(train_labels), train_labels, eval_images, eval_labels)
    assert scores["majority_class_accuracy"] == pytest.approx(0.5)

    # A constant predictor: class 1 always, the majority class, right half the time.
    constant = logit_inputs([1] * 8, [0] * 8)
    report = evaluate_classifier(pass_through_model(), (constant, eval_labels), CLASS_NAMES)
    assert report.accuracy == pytest.approx(0.5)
    text = format_baselines(report.accuracy, scores, CLASS_NAMES, "test")
    assert "WARNING" in text and "does not beat the majority-class rate 0.5000" in text
    assert re.search(r"majority class \(dog, the most frequent in training\)\s+0\.5000", text)
    assert baseline_warning(report.accuracy, scores, "test").startswith(
        "The model's test accuracy 0.5000")

    # A perfect predictor gets none.
    perfect = logit_inputs(eval_labels, (eval_labels + 1) % 3)
    report = evaluate_classifier(pass_through_model(), (perfect, eval_labels), CLASS_NAMES)
    assert report.accuracy == 1.0
    assert baseline_warning(report.accuracy, scores) is None
    text = format_baselines(report.accuracy, scores, CLASS_NAMES, "test")
    assert "WARNING" not in text and re.search(r"this model\s+1\.0000", text)


@pytest.mark.parametrize("call, message", [
    (lambda: baselines(np.zeros((3, 4, 4)), [0, 1], np.zeros((2, 4, 4)), [0, 1]),
     "train split has 3 examples but 2 labels"),
    (lambda: baselines(None, [0, 1], None, [0, 1], train_features=np.ones((2, 3))),
     "both train_features and eval_features"),
    (lambda: baselines(None, [0, 1], None, [0], train_features=np.ones((2, 3)),
                       eval_features=np.ones((1, 4))), "3 values per example but eval"),
    (lambda: baselines(np.zeros((2, 4)), [0, 1], np.zeros((2, 4, 4)), [0, 1]),
     "received shape \\(2, 4\\)"),
    (lambda: baselines(np.zeros((2, 4, 4)), [0, -1], np.zeros((2, 4, 4)), [0, 1]),
     "Label -1 in the train split"),
    (lambda: dataset_baselines((np.zeros((0, 4, 4)), np.zeros(0)), {}), "empty"),
])
def test_bad_baseline_input_is_a_clear_error(call, message):
    with pytest.raises(EvaluationError, match=message):
        call()
