"""gan_augment (the papers' jitter and flip, at any size) and the embedded
classification sets (offline, fixed stratified splits)."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.data import EMBEDDED, gan_augment, load_classification, load_test
from zoo.data.augment import jitter_size
from zoo.data.embedded import classification_arrays


def test_jitter_size_follows_the_papers_ratio():
    assert jitter_size(256, 256) == (286, 286)
    assert jitter_size(128, 64) == (143, 72)


def test_pair_gets_one_crop_and_one_flip():
    rng = np.random.default_rng(0)
    image = tf.constant(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    results = [gan_augment(image, image) for _ in range(6)]
    for a, b in results:
        assert a.shape == (32, 32, 3) and a.dtype == tf.uint8
        assert np.array_equal(a, b)
    assert len({a.numpy().tobytes() for a, _ in results}) > 1  # random crops differ


def test_single_image_and_float_input_keep_their_dtype():
    image = tf.random.uniform((16, 24, 3), 0, 255)
    out = gan_augment(image)
    assert out.shape == (16, 24, 3) and out.dtype == tf.float32


def test_flip_happens_about_half_the_time():
    image = tf.constant(np.tile(np.arange(16, dtype=np.uint8)[None, :, None] * 16, (16, 1, 3)))
    # A left-to-right ramp: a flipped output starts bright.
    flipped = sum(int(gan_augment(image)[8, 0, 0]) > 128 for _ in range(40))
    assert 5 < flipped < 35


def test_embedded_names():
    assert {"digits", "faces", "edges2photos", "gray2color"} <= set(EMBEDDED)
    assert EMBEDDED["digits"] == "classification" and EMBEDDED["color2sepia"] == "unpaired"


@pytest.mark.parametrize("name, n, classes", [("digits", 1797, 10), ("faces", 200, 2)])
def test_embedded_split_is_fixed_stratified_and_disjoint(name, n, classes):
    splits = {s: classification_arrays(name, s, (8, 8)) for s in ("train", "val", "test")}
    sizes = {s: len(v[1]) for s, v in splits.items()}
    assert sum(sizes.values()) == n
    assert abs(sizes["test"] - 0.2 * n) <= 1 and abs(sizes["val"] - 0.2 * n) <= 1
    for _, labels, names in splits.values():
        assert len(names) == classes and len(np.unique(labels)) == classes
        shares = np.bincount(labels) / len(labels)
        assert shares.max() - shares.min() < 0.05  # stratified: balanced like the whole
    flat = {s: {v.tobytes() for v in splits[s][0]} for s in splits}
    assert not flat["train"] & flat["test"]
    again = classification_arrays(name, "test", (8, 8))
    assert np.array_equal(again[0], splits["test"][0])


def test_digits_through_the_loader():
    train, val, names = load_classification("digits", 16, batch_size=64)
    images, labels = next(iter(train))
    assert names == [str(i) for i in range(10)]
    assert tuple(images.shape) == (64, 16, 16, 3) and images.dtype == tf.uint8
    assert int(tf.reduce_max(images)) == 255 and int(tf.reduce_min(images)) == 0
    assert np.array_equal(images[..., 0], images[..., 1])
    assert sum(int(x.shape[0]) for x, _ in val) == 360
    test, _ = load_test("digits", 16, batch_size=1000)
    assert sum(int(x.shape[0]) for x, _ in test) == 360


def test_faces_through_the_loader():
    train, val, names = load_classification("faces", (20, 30), batch_size=200)
    images, labels = next(iter(train))
    assert names == ["face", "non_face"]
    assert tuple(images.shape) == (120, 20, 30, 3)
    assert sorted(np.bincount(labels.numpy()).tolist()) == [60, 60]
