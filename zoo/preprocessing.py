"""Preprocessing built from stock Keras layers, so it lives inside the model.

A zoo classifier takes raw RGB pixels (0..255, uint8 or float) and maps them
the way its backbone's ImageNet weights expect. Only built-in, serialisable
Keras layers and ops are used (no Lambda, no custom classes), so a saved model
loads with plain Keras and `safe_mode=True`, without zoo installed.
"""

from __future__ import annotations

import keras
from keras import layers, ops

# The ImageNet statistics `keras.applications` uses.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)

MODES = ("caffe", "tf", "torch", "none")


def apply_preprocessing(images, mode: str):
    """Apply `mode`'s preprocessing to a symbolic (functional) image tensor.

    The result equals `keras.applications.<family>.preprocess_input` for the
    backbone's family, to float32 tolerance.
    """
    if mode == "caffe":
        # RGB to BGR, then minus the ImageNet mean; no scaling.
        bgr = ops.flip(images, axis=-1)
        return layers.Normalization(
            mean=list(CAFFE_MEAN_BGR), variance=[1.0, 1.0, 1.0], name="preprocess_caffe"
        )(bgr)
    if mode == "tf":
        return layers.Rescaling(scale=1.0 / 127.5, offset=-1.0, name="preprocess_tf")(images)
    if mode == "torch":
        scaled = layers.Rescaling(scale=1.0 / 255.0, name="preprocess_torch_scale")(images)
        return layers.Normalization(
            mean=list(TORCH_MEAN),
            variance=[s * s for s in TORCH_STD],
            name="preprocess_torch",
        )(scaled)
    if mode == "none":
        return images
    raise ValueError(f"Unknown preprocessing mode {mode!r}; expected one of {MODES}.")


def reference_preprocess(family: str, images):
    """`keras.applications.<family>.preprocess_input`: the plain way, for tests
    and benchmarks."""
    module = getattr(keras.applications, family)
    return module.preprocess_input(images)
