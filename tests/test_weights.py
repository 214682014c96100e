"""ImageNet weights offline, the Keras cache, and local weights files."""

import dataclasses
import hashlib
import time

import h5py
import numpy as np
import pytest

import zoo
from zoo import backbones, weights

SMALL = "mobilenet_v3_small"


def _save_legacy_h5(model, path):
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)


def _assert_same_weights(model_a, model_b):
    assert len(model_a.weights) == len(model_b.weights)
    for a, b in zip(model_a.weights, model_b.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_offline_imagenet_fails_fast_and_names_the_cache_path(keras_home, no_network):
    started = time.monotonic()
    with pytest.raises(zoo.WeightsUnavailableError) as info:
        zoo.create_classifier("resnet50", 3, weights="imagenet", input_shape=32)
    assert time.monotonic() - started < 10
    message = str(info.value)
    expected = keras_home / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert str(expected) in message
    assert "'resnet50'" in message
    assert "zoo weights fetch resnet50" in message
    assert "weights=None" in message and "weights=PATH" in message
    assert "URLError" not in type(info.value).__name__


def test_corrupt_cached_file_is_reported(keras_home, no_network):
    path = zoo.imagenet_weights_path("vgg16")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not the weights")
    status = zoo.imagenet_weights_status("vgg16")
    assert status.present and not status.valid
    with pytest.raises(zoo.WeightsUnavailableError, match="hash check"):
        zoo.fetch_imagenet_weights("vgg16")


def test_cached_imagenet_file_is_used_without_network(keras_home, no_network, monkeypatch):
    """A valid file in the Keras cache is loaded, and no download is tried."""
    spec = zoo.backbone_info(SMALL)
    source = spec.build((32, 32, 3), weights=None)
    path = zoo.imagenet_weights_path(SMALL)
    path.parent.mkdir(parents=True)
    _save_legacy_h5(source, path)  # the format of the keras.applications files
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    record = dataclasses.replace(spec.weights_notop, file_hash=digest)
    monkeypatch.setitem(backbones.BACKBONES, SMALL,
                        dataclasses.replace(spec, weights_notop=record))

    assert zoo.imagenet_weights_status(SMALL).valid
    model = zoo.create_classifier(SMALL, 2, weights="imagenet", input_shape=32)
    _assert_same_weights(zoo.get_backbone(model), source)


def test_local_notop_file(tmp_path):
    spec = zoo.backbone_info(SMALL)
    source = spec.build((32, 32, 3), weights=None)
    path = tmp_path / "mine.weights.h5"
    source.save_weights(path)
    model = zoo.create_classifier(SMALL, 2, weights=str(path), input_shape=32)
    _assert_same_weights(zoo.get_backbone(model), source)


@pytest.mark.parametrize("classes", [1000, 7])
def test_local_full_model_file_drops_the_top(tmp_path, classes):
    spec = zoo.backbone_info(SMALL)
    full = spec.build(weights=None, include_top=True, classes=classes)
    path = tmp_path / "full.weights.h5"
    full.save_weights(path)
    backbone = zoo.create_backbone(SMALL, weights=path, input_shape=48)
    for mine, theirs in zip(backbone.weights, full.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    # The classifier's own head is new, not the file's 1000-way one.
    model = zoo.create_classifier(SMALL, 3, weights=path, input_shape=48)
    assert model.output_shape == (None, 3)


@pytest.mark.slow
def test_local_legacy_h5_full_file(tmp_path):
    """The layout of the keras.applications ImageNet files (legacy HDF5)."""
    spec = zoo.backbone_info("densenet121")
    full = spec.build(weights=None, include_top=True)
    path = tmp_path / "densenet121_full.h5"
    _save_legacy_h5(full, path)
    backbone = zoo.create_backbone("densenet121", weights=path, input_shape=32)
    for mine, theirs in zip(backbone.weights, full.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert weights.load_backbone_weights(backbone, spec, path) == "full"


def test_file_from_another_backbone_is_refused(tmp_path):
    other = zoo.backbone_info("mobilenet_v3_large").build((32, 32, 3), weights=None)
    path = tmp_path / "large.weights.h5"
    other.save_weights(path)
    with pytest.raises(zoo.WeightsError) as info:
        zoo.create_classifier(SMALL, 2, weights=path, input_shape=32)
    message = str(info.value)
    assert str(path) in message and "does not fit backbone 'mobilenet_v3_small'" in message


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(zoo.WeightsError, match="not found"):
        zoo.create_classifier(SMALL, 2, weights=tmp_path / "nope.h5", input_shape=32)
    junk = tmp_path / "junk.h5"
    junk.write_text("hello")
    with pytest.raises(zoo.WeightsError, match="not a readable HDF5"):
        zoo.create_classifier(SMALL, 2, weights=junk, input_shape=32)


def test_weights_path_follows_keras_home(keras_home):
    path = zoo.imagenet_weights_path("xception", include_top=True)
    assert path == keras_home / "models" / "xception_weights_tf_dim_ordering_tf_kernels.h5"
    status = zoo.imagenet_weights_status("xception", include_top=True)
    assert not status.present and not status.valid
