"""The search space: pinning with hp.Fixed, lists, ranges, bad input."""

import keras_tuner
import pytest

from zoo.classification import TrainConfig
from zoo.errors import TuningError
from zoo.classification.search.hypermodel import ClassifierHyperModel
from zoo.classification.search.space import parse_override

PINNED = {"head": "mlp", "hidden_units": 64, "dropout": 0.3, "learning_rate": 0.01,
          "label_smoothing": 0.1}


def test_pinned_values_build_the_expected_head():
    hypermodel = ClassifierHyperModel(10, 32, ["resnet50"], overrides=PINNED)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert all(isinstance(p, keras_tuner.engine.hyperparameters.Fixed) for p in hp.space)
    assert {k: hp.values[k] for k in PINNED} == PINNED
    assert hp.values["backbone"] == "resnet50"
    # The cached path: the head alone, on resnet50's 2048 features.
    assert model.input_shape == (None, 2048)
    assert model.get_layer("head_hidden").units == 64
    assert model.get_layer("head_dropout").rate == pytest.approx(0.3)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    config = hypermodel.config_for(hp, batch_size=16, epochs=2)
    assert (config.head, config.hidden_units, config.dropout, config.label_smoothing) == (
        "mlp", 64, 0.3, 0.1)
    assert hypermodel.uses_cached_features(config)


def test_fine_tuning_builds_the_whole_classifier():
    hypermodel = ClassifierHyperModel(3, 32, ["mobilenet_v3_small"],
                                      overrides={"fine_tune_blocks": 1, "head": "linear"})
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.values["fine_tune_blocks"] == 1
    assert model.input_shape == (None, 32, 32, 3)
    assert not hypermodel.uses_cached_features(hypermodel.config_for(hp))


def test_lists_make_choices_and_tuples_make_ranges():
    hypermodel = ClassifierHyperModel(
        10, 32, ["resnet50", "vgg16"],
        overrides={"head": ["linear", "mlp"], "learning_rate": (1e-4, 1e-2),
                   "hidden_units": (32, 128), "batch_size": [16, 32], "epochs": 2})
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_build_space(hp)
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds["backbone"] == "Choice" and kinds["head"] == "Choice"
    assert kinds["learning_rate"] == "Float" and kinds["hidden_units"] == "Int"
    lr = next(p for p in hp.space if p.name == "learning_rate")
    assert (lr.min_value, lr.max_value, lr.sampling) == (1e-4, 1e-2, "log")
    # fit-time dimensions are declared by fit, not build
    assert "batch_size" not in hp.values and "epochs" not in hp.values
    assert hypermodel.space.declare(hp, "batch_size") in (16, 32)
    assert hypermodel.space.declare(hp, "epochs") == 2


def test_defaults_keep_the_backbone_frozen():
    hypermodel = ClassifierHyperModel(10, 32, ["resnet50"],
                                      base_config=TrainConfig(batch_size=8, epochs=3))
    hp = keras_tuner.HyperParameters()
    hypermodel.declare_build_space(hp)
    assert hp.values["fine_tune_blocks"] == 0 and hp.values["augment"] == 0.0
    assert hypermodel.space.declare(hp, "batch_size") == 8


@pytest.mark.parametrize("kwargs, message", [
    (dict(overrides={"depth": 3}), "Unknown search space name"),
    (dict(overrides={"head": []}), "empty"),
    (dict(overrides={"head": ("linear", "mlp")}), "not a range"),
    (dict(overrides={"head": "big"}), "head must be one of"),
    (dict(overrides={"dropout": 1.5}), "at most"),
    (dict(overrides={"learning_rate": (0.0, 0.1)}), "log scale"),
    (dict(overrides={"hidden_units": 12.5}), "whole numbers"),
    (dict(overrides={"fine_tune_blocks": 9}), "has only"),
    (dict(backbones=["inception_v3"]), "at least 75 pixels"),
    (dict(backbones=["resnet9000"]), "resnet9000"),
    (dict(backbones=[]), "at least one backbone"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, message):
    arguments = dict(backbones=["resnet50"])
    arguments.update(kwargs)
    with pytest.raises(TuningError, match=message):
        ClassifierHyperModel(10, 32, **arguments)


def test_parse_override():
    assert parse_override("dropout=0.2") == ("dropout", 0.2)
    assert parse_override("head=linear,mlp") == ("head", ["linear", "mlp"])
    assert parse_override("learning-rate=1e-4:1e-2") == ("learning_rate", (1e-4, 1e-2))
    assert parse_override("hidden_units=64,") == ("hidden_units", [64])
    with pytest.raises(TuningError, match="NAME=VALUE"):
        parse_override("dropout")
    with pytest.raises(TuningError, match="Unknown"):
        parse_override("colour=red")
