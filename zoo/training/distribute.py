"""Where a model trains: the tf.distribute strategy, and its compute dtype.

Every family builds its model inside `strategy.scope()` and under a dtype
policy; both switches live here so that each family sets them the same way.
A config's `mixed_precision` (zoo.precision) becomes a policy in
precision_policy, and a GAN's optimizers are loss-scaled in loss_scaled.
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf

from zoo.precision import check_mixed_precision


def make_strategy(name: str, devices=None):
    """The tf.distribute strategy for "default", "mirrored" or "multi_worker"."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        # The hosts come from TF_CONFIG; create it before other TensorFlow
        # work in the process, as TensorFlow requires.
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def precision_policy(setting) -> str | None:
    """The Keras dtype policy a `mixed_precision` setting names (None: float32)."""
    setting = check_mixed_precision(setting)
    if setting == "auto":
        setting = "float16" if tf.config.list_physical_devices("GPU") else "off"
    return {"off": None, "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}[setting]


def loss_scaled(optimizer):
    """`optimizer` wrapped in Keras's dynamic loss scaling when the current
    dtype policy is mixed_float16, whose small gradients underflow in float16;
    a custom train step then takes gradients of `optimizer.scale_loss(loss)`.
    Other policies need no scaling and get `optimizer` itself."""
    if keras.config.dtype_policy().name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


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
