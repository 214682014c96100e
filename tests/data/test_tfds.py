"""TFDS sources, offline: tfds.testing.mock_data for the data, and the clear
DataError when a data set is neither prepared nor downloadable."""

import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from zoo.data import load_classification, load_test, load_unpaired, tfds_source
from zoo.errors import DataError


@pytest.fixture
def mocked_tfds(tmp_path, monkeypatch):
    """TFDS data from tfds.testing.mock_data (its download is a no-op), and
    no connectivity probe before that no-op download: this machine is offline."""
    monkeypatch.setattr(tfds_source, "_probe_connection", lambda: None)

    def mock(num_examples):
        return tfds.testing.mock_data(num_examples=num_examples, data_dir=str(tmp_path))
    return mock


def test_tfds_classification_from_mock_data(tmp_path, mocked_tfds):
    with mocked_tfds(6):
        train, val, names = load_classification("tfds:tf_flowers", (16, 12), batch_size=4,
                                                data_dir=str(tmp_path))
        images, labels = next(iter(train))
    assert names == ["dandelion", "daisy", "tulips", "sunflowers", "roses"]
    assert images.dtype.name == "uint8" and tuple(images.shape[1:]) == (16, 12, 3)
    assert labels.dtype.name == "int32" and 0 <= int(labels.numpy().min())
    assert int(labels.numpy().max()) < 5
    assert val is not None


def test_tfds_grayscale_becomes_rgb_and_test_split(tmp_path, mocked_tfds):
    with mocked_tfds(5):
        test, names = load_test("tfds:mnist", 8, batch_size=5, data_dir=str(tmp_path))
        images, _ = next(iter(test))
    assert names == [str(i) for i in range(10)]
    assert tuple(images.shape) == (5, 8, 8, 3)
    assert np.array_equal(images[..., 0], images[..., 2])


def test_tfds_cycle_gan_from_mock_data(tmp_path, mocked_tfds):
    with mocked_tfds(3):
        data = load_unpaired("tfds:cycle_gan/horse2zebra", 16, batch_size=3,
                             data_dir=str(tmp_path))
        batches = {name: next(iter(getattr(data, name))) for name in data._fields}
    for name, batch in batches.items():
        assert tuple(batch.shape) == (3, 16, 16, 3) and batch.dtype.name == "uint8", name


def test_offline_download_failure_is_a_clear_data_error(tmp_path, no_network):
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        load_classification("tfds:tf_flowers", 8, data_dir=str(tmp_path))
    message = str(info.value)
    assert time.perf_counter() - start < 30
    assert "tfds:tf_flowers" in message and str(tmp_path) in message
    assert "could not be downloaded" in message and "network blocked by the test" in message
    assert "connected machine" in message and "TFDS_DATA_DIR" in message
    assert list(tmp_path.iterdir()) == [] or not any(tmp_path.rglob("*.tfrecord*"))


def test_tfds_data_dir_from_the_environment(tmp_path, no_network, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(tfds.core.constants, "DATA_DIR", str(tmp_path), raising=False)
    with pytest.raises(DataError, match=str(tmp_path)):
        load_unpaired("tfds:cycle_gan/horse2zebra", 8)


def test_download_false_never_touches_the_network(tmp_path, no_network):
    with pytest.raises(DataError, match=r"not prepared in .*download=False.*connected machine"):
        load_classification("tfds:tf_flowers", 8, data_dir=str(tmp_path), download=False)


def test_unknown_tfds_name(tmp_path):
    with pytest.raises(DataError, match=r"TFDS has no data set 'tfds:no_such_set_zz'"):
        load_classification("tfds:no_such_set_zz", 8, data_dir=str(tmp_path))
