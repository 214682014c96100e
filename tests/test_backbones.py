"""The registry's records agree with the Keras models they describe."""

import re

import keras
import numpy as np
import pytest

import zoo
from zoo.backbones import BACKBONES, ZOO_FAMILY
from zoo.preprocessing import apply_preprocessing, reference_preprocess

ALL = list(BACKBONES)
# One backbone per keras.applications family: each family has its own preprocessing.
ONE_PER_FAMILY = list({spec.family: name for name, spec in reversed(BACKBONES.items())}.values())
# The keras.applications ones, whose preprocess_input is the reference.
KERAS_FAMILIES = [name for name in ONE_PER_FAMILY if BACKBONES[name].family != ZOO_FAMILY]
# Every backbone builds in the whole suite; the quick one builds one per
# family, less inception_resnet_v2, which the features test builds anyway.
EVERY_BACKBONE = [name if name in ONE_PER_FAMILY and name != "inception_resnet_v2"
                  else pytest.param(name, marks=pytest.mark.slow) for name in ALL]


def test_registry_covers_the_promised_backbones():
    promised = {
        "resnet50", "resnet101", "resnet152", "resnet50_v2", "resnet101_v2", "resnet152_v2",
        "inception_v3", "inception_resnet_v2", "vgg16", "vgg19", "xception",
        "efficientnet_v2_b0", "efficientnet_v2_b1", "efficientnet_v2_b2", "efficientnet_v2_b3",
        "efficientnet_v2_s", "mobilenet_v3_small", "mobilenet_v3_large", "convnext_tiny",
        "densenet121",
    }
    assert promised <= set(zoo.list_backbones())
    for name in zoo.list_backbones():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name


def test_list_backbones_takes_wildcards():
    assert zoo.list_backbones("vgg*") == ["vgg16", "vgg19"]
    assert zoo.list_backbones("res*") == [n for n in ALL if n.startswith("res")]
    assert zoo.list_backbones("*_v2_b?") == [
        "efficientnet_v2_b0", "efficientnet_v2_b1", "efficientnet_v2_b2", "efficientnet_v2_b3"]
    assert zoo.list_backbones("RES*50") == ["resnet50"]
    assert zoo.list_backbones("nothing*") == []


def test_backbone_info_accepts_keras_spelling():
    assert zoo.backbone_info("ResNet50V2").name == "resnet50_v2"
    assert zoo.backbone_info("inception-v3").name == "inception_v3"


def test_unknown_backbone_suggests_close_names():
    with pytest.raises(zoo.UnknownBackboneError) as info:
        zoo.backbone_info("resnet5")
    message = str(info.value)
    assert "resnet50" in message and "zoo list" in message
    assert isinstance(info.value, ValueError)


def test_weights_records_name_files_and_hashes():
    for spec in BACKBONES.values():
        if spec.family == ZOO_FAMILY:  # zoo's own backbone trains from scratch
            assert spec.weights is None and spec.weights_notop is None
            assert not spec.has_imagenet_weights
            continue
        assert spec.has_imagenet_weights
        for record in (spec.weights, spec.weights_notop):
            assert record.origin.endswith("/" + record.file_name)
            assert re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{64}", record.file_hash)
        assert spec.weights.file_name != spec.weights_notop.file_name


@pytest.mark.parametrize("name", EVERY_BACKBONE)
def test_backbone_builds_at_minimum_size_and_matches_its_record(name):
    spec = zoo.backbone_info(name)
    size = spec.min_size
    model = zoo.create_classifier(name, 3, weights=None, input_shape=(size, size, 3))
    backbone = zoo.get_backbone(model)
    assert backbone.output_shape == (None, spec.feature_dim)
    assert backbone.count_params() == spec.params

    # The blocks partition the backbone's layers, in order, and each
    # recorded end layer exists.
    groups = zoo.layers_by_block(backbone, spec)
    assert [g[0] for g in groups] == list(spec.block_names)
    assert all(layers for _, layers in groups)
    flat = [layer for _, layers in groups for layer in layers]
    assert flat == backbone.layers
    for (_, layers), block in zip(groups[:-1], spec.blocks[:-1]):
        assert layers[-1].name == block.last_layer

    images = np.random.default_rng(0).integers(0, 256, (2, size, size, 3), dtype=np.uint8)
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.numerics
@pytest.mark.parametrize("name", KERAS_FAMILIES)
def test_preprocessing_equals_keras_preprocess_input(name):
    spec = zoo.backbone_info(name)
    images = np.random.default_rng(1).integers(0, 256, (3, 8, 8, 3)).astype("float32")
    inputs = keras.Input((8, 8, 3))
    ours = keras.Model(inputs, apply_preprocessing(inputs, spec.preprocessing))(images)
    reference = reference_preprocess(spec.family, images.copy())
    np.testing.assert_allclose(np.asarray(ours), np.asarray(reference), rtol=1e-6, atol=1e-5)


@pytest.mark.numerics
@pytest.mark.parametrize("name", KERAS_FAMILIES)
def test_classifier_features_equal_the_plain_keras_way(name):
    """zoo(raw pixels) == keras backbone(preprocess_input(raw pixels))."""
    spec = zoo.backbone_info(name)
    size = spec.min_size
    model = zoo.create_classifier(name, 4, weights=None, input_shape=size, dropout=0.0)
    backbone = zoo.get_backbone(model)
    # With no dropout, the output layer's input is the backbone's output.
    features = keras.Model(model.inputs, model.get_layer("predictions").input)
    images = np.random.default_rng(2).integers(0, 256, (2, size, size, 3), dtype=np.uint8)
    ours = features.predict(images, verbose=0)
    plain = backbone.predict(reference_preprocess(spec.family, images.astype("float32")),
                             verbose=0)
    scale = max(1.0, float(np.abs(plain).max()))
    np.testing.assert_allclose(ours, plain, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.numerics
def test_small_resnet_features_equal_its_builder_on_pixels_scaled_to_minus_one_one():
    """zoo's own backbone: the classifier's features are SmallResNet's on x / 127.5 - 1."""
    from zoo.small_resnet import SmallResNet

    model = zoo.create_classifier("small_resnet", 4, weights=None, input_shape=16, dropout=0.0)
    features = keras.Model(model.inputs, model.get_layer("predictions").input)
    plain = SmallResNet(input_shape=(16, 16, 3))
    plain.set_weights(zoo.get_backbone(model).get_weights())
    images = np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    expected = plain.predict(images.astype("float32") / 127.5 - 1.0, verbose=0)
    np.testing.assert_allclose(features.predict(images, verbose=0), expected, rtol=1e-4,
                               atol=1e-4 * max(1.0, float(np.abs(expected).max())))


def test_small_resnet_has_no_imagenet_weights_and_says_what_to_do():
    from zoo.errors import WeightsUnavailableError
    from zoo.weights import fetch_imagenet_weights, resolve_weights

    with pytest.raises(WeightsUnavailableError, match="zoo's own .* --weights none"):
        fetch_imagenet_weights("small_resnet")
    said = []
    assert resolve_weights("auto", ["small_resnet"], said.append) is None and said
    with pytest.raises(WeightsUnavailableError, match="has no ImageNet weights"):
        zoo.create_classifier("small_resnet", 3, weights="imagenet")
