import numpy as np
import pytest


def colour_dataset(n, size=32, classes=3, seed=0, batch_size=16):
    """Images whose class is their dominant colour channel: learnable in a few steps."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    images = rng.integers(0, 90, (n, size, size, 3)).astype("uint8")
    for i, label in enumerate(labels):
        images[i, ..., label % 3] += 150
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size), images, labels


@pytest.fixture
def tiny_data():
    train, _, _ = colour_dataset(48, seed=0)
    val, _, _ = colour_dataset(24, seed=1)
    return train, val
