"""SmallResNet: zoo's own backbone for training from scratch on small images.

The Keras Applications are built for 224 px ImageNet photos: without their
pretrained weights, MobileNetV3 upsampled to 64 px trains worse on a few
hundred small images than a logistic regression on their pixels. This one
works at the images' own resolution (8 px and up):

    stem     3x3 convolution, 32 filters, BatchNorm, ReLU (no downsampling)
    stage1   2 basic residual blocks, 32 filters
    stage2   2 blocks, 64 filters, the first with stride 2
    stage3   2 blocks, 128 filters, the first with stride 2
    pooling  global average (or max) over the last feature map

A basic block is ResNet's (He et al., 2016): two 3x3 convolutions with
BatchNorm, a 1x1 projection on the shortcut where the shape changes, the sum,
then ReLU. About 0.7 M parameters. Every layer is a built-in Keras layer, so a
saved model loads with plain Keras; there are no pretrained weights.
"""

from __future__ import annotations

import keras
from keras import layers

WIDTHS = (32, 64, 128)
BLOCKS_PER_STAGE = 2


def _basic_block(x, filters: int, stride: int, name: str):
    shortcut = x
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_conv1")(x)
    x = layers.BatchNormalization(name=f"{name}_bn1")(x)
    x = layers.ReLU(name=f"{name}_relu1")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(x)
    x = layers.BatchNormalization(name=f"{name}_bn2")(x)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False,
                                 name=f"{name}_project")(shortcut)
        shortcut = layers.BatchNormalization(name=f"{name}_project_bn")(shortcut)
    x = layers.Add(name=f"{name}_add")([x, shortcut])
    return layers.ReLU(name=f"{name}_out")(x)


def SmallResNet(include_top=False, weights=None, input_shape=None, pooling="avg",
                classes=1000, name="small_resnet"):
    """The backbone, with `keras.applications`' arguments.

    Args:
        include_top: add a softmax layer of `classes` after the pooling.
        weights: None only: there are no pretrained weights.
        input_shape: `(height, width, 3)`; default (32, 32, 3).
        pooling: "avg", "max", or None for the last feature map.
        classes: outputs of the top, with `include_top`.
        name: the model's name.
    """
    if weights is not None:
        raise ValueError(f"SmallResNet has no pretrained weights; it trains from scratch. "
                         f"Received: weights={weights!r}")
    images = keras.Input(shape=tuple(input_shape or (32, 32, 3)))
    x = layers.Conv2D(WIDTHS[0], 3, padding="same", use_bias=False, name="stem_conv")(images)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage, filters in enumerate(WIDTHS, start=1):
        for block in range(1, BLOCKS_PER_STAGE + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            x = _basic_block(x, filters, stride, f"stage{stage}_block{block}")
    if include_top or pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    if include_top:
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(images, x, name=name)
