"""The augmentation of the Pix2Pix and CycleGAN papers, for any image size.

The papers resize 256x256 images to 286x286, take a random 256x256 crop and
flip left-right half of the time. Here the 286/256 ratio is kept for any
size: an HxW image is resized to round(H*286/256) x round(W*286/256) and
cropped back to HxW.
"""

from __future__ import annotations

JITTER_RATIO = 286 / 256


def jitter_size(height: int, width: int) -> tuple[int, int]:
    """The size an image is resized to before the random crop.

    Args:
        height: height of the image (and of the crop).
        width: width of the image (and of the crop).
    """
    return round(height * JITTER_RATIO), round(width * JITTER_RATIO)


def gan_augment(image, other=None, seed: int | None = None):
    """Random jitter (resize up, random crop back) and random horizontal flip.

    Works inside tf.data maps. With `other`, both images get the same crop
    window and the same flip, as Pix2Pix needs for its (A, B) pairs.

    Args:
        image: (H, W, C) tensor with a static shape, uint8 or float.
        other: optional second image of the same height and width.
        seed: an int: op-level seed for the crop and the flip (a new draw
            at every call); or a shape-[2] integer tensor: a stateless
            seed, so the same seed gives the same crop and flip in any
            process (what an exactly resumable epoch needs).

    Returns:
        The augmented image, or the pair (image, other), in the input dtype
        (uint8 values are rounded, never wrapped).
    """
    import tensorflow as tf

    height, width = int(image.shape[0]), int(image.shape[1])
    dtype = image.dtype
    parts = [image] if other is None else [image, other]
    channels = [int(p.shape[-1]) for p in parts]
    # One stacked tensor guarantees one crop window and one flip for both.
    stacked = tf.concat([tf.cast(p, tf.float32) for p in parts], axis=-1)
    stacked = tf.image.resize(stacked, jitter_size(height, width), method="bilinear")
    crop_size = [height, width, sum(channels)]
    if seed is not None and not isinstance(seed, int):
        seed = tf.cast(seed, tf.int64)
        stacked = tf.image.stateless_random_crop(stacked, crop_size, seed=seed)
        stacked = tf.image.stateless_random_flip_left_right(stacked, seed=seed[::-1])
    else:
        stacked = tf.image.random_crop(stacked, crop_size, seed=seed)
        stacked = tf.image.random_flip_left_right(stacked, seed=seed)
    if dtype == tf.uint8:
        stacked = tf.cast(tf.clip_by_value(tf.round(stacked), 0, 255), tf.uint8)
    else:
        stacked = tf.cast(stacked, dtype)
    outputs = tf.split(stacked, channels, axis=-1)
    return outputs[0] if other is None else tuple(outputs)
