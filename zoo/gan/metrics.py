"""Per-image paired scores (L1, PSNR, SSIM) and the pixel conversions around them.

Inside zoo's GAN models images are float tensors in [-1, 1]; at the edges
(files, data sets, MLflow images) they are uint8 RGB (N, H, W, 3). Every
score here is computed on the [0, 1] scale, where published Pix2Pix and
CycleGAN numbers are reported:

    >>> fake = generator(from_uint8(inputs))      # [-1, 1]
    >>> ssim(fake, from_uint8(targets))           # shape (N,), in [-1, 1]

The functions are plain TensorFlow ops, so they work eagerly and inside a
traced `train_step` / `test_step` alike. Each returns one value per image,
shape (N,); average them with `tf.reduce_mean` for a batch score.

Inputs are float batches in [-1, 1]. A uint8 batch is also accepted and
read as 0..255 (it is converted with `from_uint8`), since that dtype has
only one meaning in zoo; any other integer dtype is an error.
"""

from __future__ import annotations

import tensorflow as tf

# tf.image.ssim's default (the SSIM paper's) Gaussian window side.
SSIM_WINDOW = 11


def from_uint8(images):
    """uint8 pixels 0..255 -> float32 in [-1, 1]."""
    images = tf.convert_to_tensor(images)
    if images.dtype != tf.uint8:
        raise TypeError(f"from_uint8 takes uint8 images (0..255). Received: "
                        f"images with dtype {images.dtype.name}")
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_unit(images):
    """Float images in [-1, 1] -> float32 in [0, 1], clipped.

    Clipping keeps a generator's slight overshoot (or rounding) from
    counting as error beyond the valid range.
    """
    images = _as_float(images, "images")
    return tf.clip_by_value((images + 1.0) / 2.0, 0.0, 1.0)


def to_uint8(images):
    """Float images in [-1, 1] -> uint8 0..255, rounded to nearest and clipped."""
    images = _as_float(images, "images")
    pixels = tf.round((images + 1.0) * 127.5)
    return tf.cast(tf.clip_by_value(pixels, 0.0, 255.0), tf.uint8)


def l1(a, b):
    """Mean absolute error per image on the [0, 1] scale; shape (N,). Lower is better."""
    a, b = _unit_pair(a, b, "l1")
    return tf.reduce_mean(tf.abs(a - b), axis=[1, 2, 3])


def psnr(a, b):
    """Peak signal-to-noise ratio in dB per image (max_val=1.0); shape (N,).

    Higher is better; identical images score `inf`.
    """
    a, b = _unit_pair(a, b, "psnr")
    return tf.image.psnr(a, b, max_val=1.0)


def ssim(a, b):
    """Structural similarity per image (max_val=1.0); shape (N,). Higher is better, 1 = same.

    The Gaussian window is 11x11 as in the SSIM paper, or the smaller image
    side when an image is smaller than that (tf.image.ssim needs the window
    to fit). The window size is chosen from the static shape; with an
    unknown height or width it stays 11, so such images must be at least 11 px.
    """
    a, b = _unit_pair(a, b, "ssim")
    sides = [side for side in (a.shape[1], b.shape[1], a.shape[2], b.shape[2])
             if side is not None]
    filter_size = min([SSIM_WINDOW, *sides])
    return tf.image.ssim(a, b, max_val=1.0, filter_size=filter_size)


def _as_float(images, name):
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return from_uint8(images)
    if not images.dtype.is_floating:
        raise TypeError(f"{name} must be float images in [-1, 1] (or uint8 0..255). "
                        f"Received: dtype {images.dtype.name}")
    return tf.cast(images, tf.float32)


def _unit_pair(a, b, score):
    a, b = to_unit(a), to_unit(b)
    for name, images in (("a", a), ("b", b)):
        if images.shape.rank is not None and images.shape.rank != 4:
            raise ValueError(f"{score}() takes batches of images (N, H, W, C). Received: "
                             f"{name} with shape {images.shape}")
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"{score}() compares images pixel by pixel, so a and b need the "
                         f"same shape. Received: a {a.shape}, b {b.shape}")
    return a, b
