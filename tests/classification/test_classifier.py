"""create_classifier(): arguments, frozen backbone in inference mode, heads."""

import numpy as np
import pytest

import zoo
from zoo.classification.classifier import feature_extractor, head_model

from tolerances import FLOAT32_ATOL, FLOAT32_RTOL

SMALL = "mobilenet_v3_small"


def _images(n, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"input_shape": (31, 31, 3)}, "at least 32x32"),
        ({"input_shape": (64, 20, 3)}, "at least 32x32"),
        ({"input_shape": (64, 64, 1)}, "must end in 3"),
        ({"input_shape": "big"}, "input_shape"),
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.0}, "num_classes"),
        ({"head": "transformer"}, "head"),
        ({"head": "mlp", "hidden_units": 0}, "hidden_units"),
        ({"dropout": 1.0}, "dropout"),
        ({"pooling": "sum"}, "pooling"),
    ],
)
def test_bad_arguments_give_a_clear_value_error(kwargs, fragment):
    arguments = {"num_classes": 3, "input_shape": (64, 64, 3), **kwargs}
    num_classes = arguments.pop("num_classes")
    with pytest.raises(ValueError, match=fragment) as info:
        zoo.create_classifier(SMALL, num_classes, weights=None, **arguments)
    assert "Received" in str(info.value)


def test_inception_minimum_size_is_enforced():
    with pytest.raises(ValueError, match="inception_v3.*at least 75x75"):
        zoo.create_classifier("inception_v3", 2, weights=None, input_shape=74)


def test_backbone_is_frozen_and_only_the_head_trains():
    model = zoo.create_classifier(SMALL, 4, weights=None, input_shape=32, head="mlp",
                                  hidden_units=16)
    backbone = zoo.get_backbone(model)
    assert backbone.trainable is False
    trainable = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trainable == {"head_hidden", "predictions"}
    assert model.get_layer("head_hidden").units == 16


def test_backbone_runs_in_inference_mode_even_when_training():
    """BatchNorm uses its moving statistics: with no dropout in the head,
    training=True gives the same output as inference."""
    model = zoo.create_classifier("resnet50", 3, weights=None, input_shape=32, dropout=0.0)
    images = _images(4, 32)
    np.testing.assert_allclose(np.asarray(model(images, training=True)),
                               np.asarray(model(images, training=False)), rtol=1e-5, atol=1e-6)
    # Still so with the last blocks unfrozen for fine-tuning.
    zoo.unfreeze_last_blocks(model, 2)
    np.testing.assert_allclose(np.asarray(model(images, training=True)),
                               np.asarray(model(images, training=False)), rtol=1e-5, atol=1e-6)


def test_unfreeze_last_blocks_trains_only_those_blocks_without_batchnorm():
    model = zoo.create_classifier("resnet50", 3, weights=None, input_shape=32)
    unfrozen = zoo.unfreeze_last_blocks(model, 1)
    assert unfrozen and all(name.startswith("conv5_") for name in unfrozen)
    assert not any(name.endswith("_bn") for name in unfrozen)
    owners = {w.path.split("/")[0] for w in model.trainable_weights}
    assert owners == set(unfrozen) | {"predictions"}
    # Back to a frozen backbone.
    assert zoo.unfreeze_last_blocks(model, 0) == []
    assert {w.path.split("/")[0] for w in model.trainable_weights} == {"predictions"}
    with pytest.raises(ValueError, match="from 0 to 5"):
        zoo.unfreeze_last_blocks(model, 6)


def test_batchnorm_statistics_do_not_move_during_fit():
    model = zoo.create_classifier("resnet50", 3, weights=None, input_shape=32)
    zoo.unfreeze_last_blocks(model, 2)
    backbone = zoo.get_backbone(model)
    moving = [w for w in backbone.weights if "moving" in w.path]
    before = [w.numpy().copy() for w in moving]
    conv = backbone.get_layer("conv5_block3_3_conv").kernel
    conv_before = conv.numpy().copy()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(_images(8, 32), np.arange(8) % 3, epochs=1, batch_size=4, verbose=0)
    for w, old in zip(moving, before):
        np.testing.assert_array_equal(w.numpy(), old)
    assert not np.array_equal(conv.numpy(), conv_before)  # the unfrozen block did train


@pytest.mark.numerics  # one classifier's outputs computed two ways
def test_uint8_and_float_inputs_agree():
    model = zoo.create_classifier("vgg16", 2, weights=None, input_shape=32)
    images = _images(2, 32)
    np.testing.assert_allclose(
        model.predict(images, verbose=0),
        model.predict(images.astype("float32"), verbose=0),
        rtol=1e-6,
    )


def test_rectangular_input_and_max_pooling():
    model = zoo.create_classifier("xception", 5, weights=None, input_shape=(71, 96, 3),
                                  pooling="max")
    assert model.input_shape == (None, 71, 96, 3)
    assert model.predict(np.zeros((1, 71, 96, 3), "uint8"), verbose=0).shape == (1, 5)


def test_no_lambda_or_custom_layers_in_the_classifier():
    model = zoo.create_classifier("resnet50", 3, weights=None, input_shape=32)
    for layer in model.layers:
        assert type(layer).__module__.startswith("keras."), type(layer)
        assert type(layer).__name__ != "Lambda"


@pytest.mark.numerics  # one classifier's outputs computed two ways
def test_feature_model_and_head_model_compose_to_the_classifier():
    model = zoo.create_classifier("mobilenet_v3_small", 4, weights=None, input_shape=32,
                                  head="mlp", hidden_units=8)
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    composed = head_model(model)(feature_extractor(model)(images))
    # Two models called eagerly against one traced predict: see tests/tolerances.py.
    np.testing.assert_allclose(np.asarray(composed), model.predict(images, verbose=0),
                               rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)
    assert zoo.get_backbone(model).trainable is False
