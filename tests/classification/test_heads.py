"""Heads trained on cached features: one at a time, or many in one traced loop."""

import dataclasses

import numpy as np
import pytest

from zoo.classification import TrainConfig, attach_head, train_head, train_heads
from zoo.classification.feature_cache import CachedFeatures, Features

from tolerances import FLOAT32_ATOL, FLOAT32_RTOL

# Heads trained in one graph against each alone, and a backbone and head
# run as two models against one: see tests/tolerances.py.
pytestmark = pytest.mark.numerics


@pytest.fixture(scope="module")
def features():
    # Class-dependent means, so the heads learn and their losses move apart.
    rng = np.random.default_rng(0)

    def split(n):
        labels = rng.integers(0, 4, n)
        x = rng.normal(size=(n, 24)).astype("float32") + 0.5 * labels[:, None]
        return Features(x, labels)

    return CachedFeatures(split(96), split(40), hit=True)


def _assert_same_training(a, b):
    assert a.history.keys() == b.history.keys()
    for key in a.history:
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=FLOAT32_RTOL,
                                   atol=FLOAT32_ATOL,
                                   err_msg=key)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)


def test_heads_trained_together_end_as_if_trained_alone(features):
    base = TrainConfig(backbone="mobilenet_v3_small", weights=None, epochs=4, patience=0,
                       batch_size=16)
    configs = [
        dataclasses.replace(base, head="linear", learning_rate=1e-2, dropout=0.0),
        dataclasses.replace(base, head="mlp", hidden_units=16, dropout=0.3, learning_rate=3e-3),
        # Its own label smoothing, epoch count and early stopping.
        dataclasses.replace(base, head="mlp", hidden_units=8, dropout=0.5, learning_rate=5e-2,
                            label_smoothing=0.1, epochs=7, patience=1),
        # Another batch size trains in a group of its own.
        dataclasses.replace(base, head="linear", dropout=0.2, learning_rate=1e-2, batch_size=32),
    ]
    together = train_heads(configs, features, 4)
    alone = [train_head(config, features, 4) for config in configs]

    assert [len(r.history["loss"]) for r in together] == [
        len(r.history["loss"]) for r in alone]
    assert len(together[0].history["loss"]) == 4
    for a, b in zip(together, alone):
        _assert_same_training(a, b)
    # The heads did learn, each its own way.
    assert together[1].history["loss"][-1] < together[1].history["loss"][0]
    assert len({round(r.history["val_loss"][-1], 5) for r in together}) == len(configs)


def test_early_stopping_restores_each_heads_best_epoch(features):
    # A learning rate this large makes validation loss rise after its best epoch.
    config = TrainConfig(backbone="mobilenet_v3_small", weights=None, head="mlp",
                         hidden_units=32, dropout=0.0, learning_rate=0.5, epochs=12,
                         patience=2, batch_size=16)
    (result,) = train_heads([config], features, 4)
    history = result.history["val_loss"]
    assert len(history) < 12, "early stopping never stopped"
    best = int(np.argmin(history))
    assert best == len(history) - 3  # stopped `patience` epochs after the best one
    x, labels = features.val.features, features.val.labels
    probabilities = result.model.predict(x, verbose=0)
    loss = -np.mean(np.log(probabilities[np.arange(len(labels)), labels] + 1e-7))
    assert loss == pytest.approx(history[best], rel=1e-3)


def test_a_trained_head_attaches_to_a_classifier(tiny_data):
    import zoo
    from zoo.classification import compute_features, feature_extractor

    train, val = tiny_data
    config = TrainConfig(backbone="mobilenet_v3_small", image_size=32, weights=None,
                         head="mlp", hidden_units=8, epochs=1, patience=0, batch_size=16)
    classifier = zoo.create_classifier("mobilenet_v3_small", 3, weights=None, input_shape=32,
                                       head="mlp", hidden_units=8)
    cached = compute_features(config, train, val, model=classifier)
    (result,) = train_heads([config], cached, 3)
    attach_head(result.model, classifier)

    images = next(iter(val))[0]
    expected = result.model.predict(feature_extractor(classifier).predict(images, verbose=0),
                                    verbose=0)
    np.testing.assert_allclose(classifier.predict(images, verbose=0), expected,
                               rtol=FLOAT32_RTOL, atol=1e-5)
