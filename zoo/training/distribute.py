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

from zoo.compat import onednn_enabled
from zoo.precision import check_mixed_precision, cpu_computes_bfloat16


def make_strategy(name: str, devices=None):
    """The tf.distribute strategy for "default", "mirrored" or "multi_worker"."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        # The hosts come from TF_CONFIG; create it before other TensorFlow
        # work in the process, as TensorFlow requires.
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def auto_precision(*, bfloat16_on_cpu: bool = False,
                   why_not: str = "this model is not faster in bfloat16 on CPUs"
                   ) -> tuple[str, str]:
    """What `mixed_precision="auto"` picks on this machine, and why.

    Args:
        bfloat16_on_cpu: the model was measured faster in bfloat16 on CPUs
            with AMX (zoo.precision says which families are).
        why_not: the reason given when `bfloat16_on_cpu` is False.

    Returns:
        (setting, reason): e.g. ("bfloat16", "this CPU has AMX-BF16 and oneDNN is on").
    """
    if tf.config.list_physical_devices("GPU"):
        return "float16", "a GPU is present"
    if not bfloat16_on_cpu:
        return "off", f"no GPU, and {why_not}"
    if not cpu_computes_bfloat16():
        return "off", "no GPU, and this CPU has no AMX-BF16"
    if not onednn_enabled():
        return "off", "this CPU has AMX-BF16, but oneDNN is off (TF_ENABLE_ONEDNN_OPTS=0)"
    return "bfloat16", "this CPU has AMX-BF16 and oneDNN is on"


def precision_policy(setting, *, bfloat16_on_cpu: bool = False) -> str | None:
    """The Keras dtype policy a `mixed_precision` setting names (None: float32).

    Args:
        setting: one of zoo.precision.MIXED_PRECISION, or True/False.
        bfloat16_on_cpu: what "auto" weighs (see auto_precision).
    """
    setting = check_mixed_precision(setting)
    if setting == "auto":
        setting, _ = auto_precision(bfloat16_on_cpu=bfloat16_on_cpu)
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
