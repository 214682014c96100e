"""TEMPORARY: replaced by the ganeval branch's metrics module at merge."""

import tensorflow as tf


def to_unit(x):
    return (tf.cast(x, tf.float32) + 1.0) / 2.0


def from_uint8(x, dtype="float32"):
    return tf.cast(x, dtype) / 127.5 - 1.0


def l1(a, b):
    return tf.reduce_mean(tf.abs(to_unit(a) - to_unit(b)), axis=[1, 2, 3])


def psnr(a, b):
    return tf.image.psnr(tf.clip_by_value(to_unit(a), 0, 1), to_unit(b), max_val=1.0)


def ssim(a, b):
    side = min(int(a.shape[1]), int(a.shape[2]), 11)
    return tf.image.ssim(tf.clip_by_value(to_unit(a), 0, 1), to_unit(b), max_val=1.0,
                         filter_size=side)
