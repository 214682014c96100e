"""The check of the uint8 RGB batches, (N, H, W, 3), that zoo's GAN code
takes at its edges (scores, realism, FID features, results pages). It
imports no TensorFlow, so the modules that use it load without it."""

from __future__ import annotations

import numpy as np


def check_uint8_batch(images, name: str, hint: str = "") -> np.ndarray:
    """`images` as an array, or a ValueError naming `name` (and `hint`, a
    remedy) when they are not uint8 RGB images shaped (N, H, W, 3)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"{name} must be uint8 RGB images shaped (N, H, W, 3). Received: "
                         f"dtype {images.dtype}, shape {images.shape}"
                         + (f". {hint}" if hint else ""))
    return images
