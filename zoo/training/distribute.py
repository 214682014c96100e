"""Where a model trains: the tf.distribute strategy, and its compute dtype.

Every family builds its model inside `strategy.scope()` and under a dtype
policy; both switches live here so that each family sets them the same way.
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf


def make_strategy(name: str, devices=None):
    """The tf.distribute strategy for "default", "mirrored" or "multi_worker"."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        # The hosts come from TF_CONFIG; create it before other TensorFlow
        # work in the process, as TensorFlow requires.
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


@contextlib.contextmanager
def dtype_policy(name: str | None):
    """Build under Keras's `name` dtype policy (e.g. "mixed_bfloat16"), or
    float32 for None. Layers keep the policy they were built with; the global
    one goes back afterwards, so that what the caller builds next is float32."""
    previous = keras.config.dtype_policy()
    if name:
        keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
