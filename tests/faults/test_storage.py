"""Faults of what zoo keeps on disk: damaged checkpoints, cache entries and
state files, a full disk, and two processes writing one cache entry.

Each test makes one fault happen and checks that the work ends as it should:
training goes on from what is intact, or stops with a ZooError that names
the path, and nothing written before is lost."""

import errno
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from zoo.errors import ZooError
from zoo.files import DiskFullError, atomic_file, read_json, update_json
from zoo.classification.feature_cache import Features, FeatureCache


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# -- checkpoints ---------------------------------------------------------

def _train(small, directory, until, resume=False):
    """Train the small model to `until` epochs with checkpoints, resuming as a recipe does."""
    from zoo.training import TrainingLoop, new_state
    from zoo.training.checkpoint import Checkpointer

    make_model, make_data = small
    checkpointer = Checkpointer(directory)
    model = make_model()
    state = checkpointer.load_state() if resume else None
    if state:
        model.optimizer.build(model.trainable_variables)
        checkpointer.restore({"model": model, "optimizer": model.optimizer})
    loop = TrainingLoop(state or new_state(), checkpointer=checkpointer, verbose=0)
    data = make_data()
    loop.run(model, lambda epoch: data, data, until)
    return loop, checkpointer


def test_corrupt_latest_checkpoint_resumes_from_the_one_before(tmp_path, small_regression):
    _train(small_regression, tmp_path, 2)
    data_file = next((tmp_path / "epoch-0002").glob("ckpt.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:50])
    with pytest.warns(UserWarning, match="epoch-0002 is damaged"):
        loop, checkpointer = _train(small_regression, tmp_path, 3, resume=True)
    # Epoch 2 was trained again from epoch 1's checkpoint, then epoch 3.
    assert loop.state["epoch"] == 3 and len(loop.state["history"]["loss"]) == 3
    assert checkpointer.latest().name == "epoch-0003"


def test_no_intact_checkpoint_is_an_error_naming_the_folder(tmp_path, small_regression):
    from zoo.training.checkpoint import CheckpointError

    _train(small_regression, tmp_path, 2)
    for manifest in tmp_path.glob("epoch-*/manifest.json"):
        manifest.write_text("{cut")
    with pytest.warns(UserWarning), pytest.raises(CheckpointError) as caught:
        _train(small_regression, tmp_path, 3, resume=True)
    assert isinstance(caught.value, ZooError) and str(tmp_path) in str(caught.value)
    assert "without --resume" in str(caught.value)


def test_disk_full_while_checkpointing_keeps_the_previous_checkpoint(
        tmp_path, small_regression, monkeypatch):
    from zoo.training import checkpoint

    _train(small_regression, tmp_path, 2)
    real_write = checkpoint._write

    def write_then_fill_the_disk(folder, objects, state):
        real_write(folder, objects, state)
        _disk_full()

    monkeypatch.setattr(checkpoint, "_write", write_then_fill_the_disk)
    with pytest.raises(DiskFullError) as caught:
        _train(small_regression, tmp_path, 3, resume=True)
    message = str(caught.value)
    assert "epoch-0003" in message and "it needs about" in message and "free" in message
    monkeypatch.setattr(checkpoint, "_write", real_write)
    checkpointer = checkpoint.Checkpointer(tmp_path)
    assert checkpointer.latest().name == "epoch-0002"       # intact, still the latest
    assert checkpointer.load_state()["epoch"] == 2
    assert not list(tmp_path.glob(".epoch-*"))              # no staging left behind


def test_disk_full_while_saving_best_weights_keeps_the_previous_best(
        tmp_path, small_regression, monkeypatch):
    import keras

    from zoo.training.checkpoint import BEST, Checkpointer

    make_model, _ = small_regression
    checkpointer = Checkpointer(tmp_path)
    model = make_model()
    checkpointer.save_best(model)
    before = (tmp_path / BEST).read_bytes()
    monkeypatch.setattr(keras.Model, "save_weights", _disk_full)
    with pytest.raises(DiskFullError, match=BEST):
        checkpointer.save_best(model)
    assert (tmp_path / BEST).read_bytes() == before
    assert checkpointer.restore_best(make_model())


def test_disk_full_while_saving_the_model_keeps_the_previous_file(tmp_path):
    model_path = tmp_path / "model.keras"
    model_path.write_bytes(b"the previous model")
    with pytest.raises(DiskFullError) as caught:
        with atomic_file(model_path) as staging:
            staging.write_bytes(b"half a mod")
            _disk_full()
    assert str(model_path) in str(caught.value) and "18 bytes" in str(caught.value)
    assert model_path.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


# -- the feature cache ---------------------------------------------------

def _entry(seed=0):
    rng = np.random.default_rng(seed)
    return Features(rng.normal(size=(20, 8)).astype("float32"), np.arange(20) % 3)


def test_corrupt_cache_entry_is_a_miss_that_is_recomputed_and_replaced(tmp_path):
    key = "k" * 32
    FeatureCache(tmp_path).put(key, _entry())
    features = tmp_path / key / "features.npy"
    features.write_bytes(features.read_bytes()[:60])       # the measured fault: a cut .npy

    cache = FeatureCache(tmp_path)
    with pytest.warns(UserWarning, match=f"{key}.*features.npy has 60 bytes") as caught:
        assert cache.get(key) is None
        assert cache.get(key) is None                      # warned once, still a miss
    assert len([w for w in caught if "damaged" in str(w.message)]) == 1
    assert cache.misses == 2
    cache.put(key, _entry())                              # what compute_features does next
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = FeatureCache(tmp_path).get(key)
    np.testing.assert_array_equal(found.features, _entry().features)


def test_a_cache_entry_with_the_same_size_but_other_bytes_is_a_miss(tmp_path):
    key = "b" * 32
    FeatureCache(tmp_path).put(key, _entry())
    labels = tmp_path / key / "labels.npy"
    data = bytearray(labels.read_bytes())
    data[-1] ^= 0xFF
    labels.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="labels.npy does not match its checksum"):
        assert FeatureCache(tmp_path).get(key) is None


def test_disk_full_while_caching_features_leaves_no_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "save", _disk_full)
    with pytest.raises(DiskFullError, match="k{32}"):
        FeatureCache(tmp_path).put("k" * 32, _entry())
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert FeatureCache(tmp_path).get("k" * 32) is None


# Separate interpreters, not forks: a fork of a process that has started
# TensorFlow's thread pools (an earlier test may have) can hang.
PUT_MANY = """
import sys
import numpy as np
from zoo.classification.feature_cache import Features, FeatureCache
rng = np.random.default_rng(1)
entry = Features(rng.normal(size=(20, 8)).astype("float32"), np.arange(20) % 3)
cache = FeatureCache(sys.argv[1])
for _ in range(30):
    cache.put(sys.argv[2], entry)
"""


@pytest.mark.slow
def test_two_processes_putting_one_key_at_once_do_not_crash(tmp_path):
    key = "c" * 32
    workers = [subprocess.Popen([sys.executable, "-c", PUT_MANY, str(tmp_path), key],
                                stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], errors
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = FeatureCache(tmp_path).get(key)
    np.testing.assert_array_equal(found.features, _entry(1).features)
    assert [p.name for p in tmp_path.iterdir()] == [key]   # no staging folder left


# -- JSON state ------------------------------------------------------------

def test_corrupt_json_state_is_reported_with_its_path_and_rebuilt(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"trials": [1, 2')                   # cut short
    with pytest.warns(UserWarning, match=f"{path} is damaged"):
        assert read_json(path, default={}) == {}
    with pytest.warns(UserWarning):
        value = update_json(path, lambda state: {**state, "trials": [3]}, default={})
    assert value == {"trials": [3]} and json.loads(path.read_text()) == value


def test_disk_full_while_writing_json_keeps_the_previous_file(tmp_path, monkeypatch):
    import os

    path = tmp_path / "state.json"
    update_json(path, lambda _: {"epoch": 1})
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(DiskFullError, match="state.json"):
        update_json(path, lambda state: {"epoch": 2})
    monkeypatch.undo()
    assert read_json(path) == {"epoch": 1}


def test_a_cut_cache_entry_no_longer_fails_the_trial_that_reads_it(tmp_path):
    """The measured fault: a truncated .npy under the cache made every trial
    fail with `ValueError: EOF: reading array header`."""
    import tensorflow as tf

    from zoo import create_classifier
    from zoo.classification import TrainConfig
    from zoo.classification.feature_cache import compute_features

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (12, 32, 32, 3)).astype("uint8")
    train = tf.data.Dataset.from_tensor_slices((images, np.arange(12) % 2)).batch(6)
    val = tf.data.Dataset.from_tensor_slices((images[:4], np.arange(4) % 2)).batch(4)
    config = TrainConfig(backbone="mobilenet_v3_small", image_size=32, weights=None, seed=3)
    model = create_classifier("mobilenet_v3_small", 2, weights=None, input_shape=32)
    first = compute_features(config, train, val, FeatureCache(tmp_path), model=model)
    for features in tmp_path.glob("*/features.npy"):
        features.write_bytes(features.read_bytes()[:100])

    with pytest.warns(UserWarning, match="is damaged") as caught:
        again = compute_features(config, train, val, FeatureCache(tmp_path), model=model)
    assert len([w for w in caught if "is damaged" in str(w.message)]) == 2   # train and val
    assert again.hit is False
    np.testing.assert_allclose(again.train.features, first.train.features, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compute_features(config, train, val, FeatureCache(tmp_path), model=model).hit
