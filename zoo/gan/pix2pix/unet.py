"""The Pix2Pix U-Net generator (Isola et al. 2017, appendix 6.1.1).

An encoder of `depth` stride-2 convolutions takes the image down to 1x1 (8
steps for 256 px, 7 for 128 px); a decoder of transposed convolutions takes
it back up, and each decoder block also sees the encoder block of the same
size (the skip connections). As in the paper and the reference code:

- encoder blocks are LeakyReLU(0.2) -> conv -> norm; the first has no
  activation before it and no norm after it, and the innermost (the 1x1
  bottleneck) has no norm: normalising a 1x1 map of one image would make it
  constant;
- decoder blocks are ReLU -> transposed conv -> norm, with dropout 0.5 in
  the three innermost ("CD512-CD1024-CD1024" in the paper; the reference
  code shifts them one block outwards), and a tanh at the end;
- convolutions have a bias only where no BatchNorm follows, plus the last
  one.

The model is fully convolutional: any height and width that are multiples
of 2**depth (see `zoo.gan.inference` for other sizes). It maps images in
[-1, 1] to images in [-1, 1].
"""

from __future__ import annotations

import math

import keras

from zoo.gan.layers import check_norm, conv, normalization, up_conv, uses_bias

DROPOUT_BLOCKS = 3
WIDEST = 8  # filters stop growing at ngf * 8


def unet_depth(image_size) -> int:
    """Down-sampling steps that take an image of this size to 1x1: log2 of its
    smaller side, which must be a power of two of at least 4."""
    side = min(image_size) if isinstance(image_size, (tuple, list)) else int(image_size)
    depth = int(math.log2(side)) if side > 0 else 0
    if side < 4 or 2 ** depth != side:
        raise ValueError(f"image_size must be a power of two of at least 4 (e.g. 64, 128, 256) "
                         f"for the U-Net to reach a 1x1 bottleneck. Received: {image_size}. "
                         f"Pass depth= to choose the number of steps yourself.")
    return depth


def unet_generator(image_size=256, *, depth: int | None = None, ngf: int = 64,
                   norm: str = "batch", dropout: float = 0.5, in_channels: int = 3,
                   out_channels: int = 3, name: str = "unet_generator") -> keras.Model:
    """The Pix2Pix U-Net.

    Args:
        image_size: the training image side (int or (height, width)); it sets
            `depth` when depth is None.
        depth: down-sampling steps; inputs must be multiples of 2**depth.
        ngf: filters of the first block; they double per block up to ngf*8.
        norm: `"batch"` or `"instance"`.
        dropout: rate of the three innermost decoder blocks' dropout.
        in_channels, out_channels: image channels in and out.

    Returns:
        A functional `keras.Model` of built-in layers, input (None, None,
        in_channels).
    """
    check_norm(norm)
    depth = depth or unet_depth(image_size)
    if depth < 2:
        raise ValueError(f"depth must be at least 2. Received: depth={depth}")
    bias = uses_bias(norm)
    filters = [ngf * min(2 ** level, WIDEST) for level in range(depth)]

    inputs = keras.Input((None, None, in_channels), name="image")
    x = inputs
    skips = []
    for level, width in enumerate(filters):
        if level > 0:
            x = keras.layers.LeakyReLU(0.2, name=f"down{level + 1}_lrelu")(x)
        x = conv(width, use_bias=bias, name=f"down{level + 1}_conv")(x)
        if 0 < level < depth - 1:
            x = normalization(norm, name=f"down{level + 1}_norm")(x)
        skips.append(x)

    skips.pop()  # the bottleneck is x itself
    for step, level in enumerate(reversed(range(depth))):
        outermost = level == 0
        x = keras.layers.ReLU(name=f"up{level + 1}_relu")(x)
        if outermost:
            x = up_conv(out_channels, name="up1_conv")(x)
            x = keras.layers.Activation("tanh", name="output", dtype="float32")(x)
            break
        x = up_conv(filters[level - 1], use_bias=bias, name=f"up{level + 1}_conv")(x)
        x = normalization(norm, name=f"up{level + 1}_norm")(x)
        if step < DROPOUT_BLOCKS and dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"up{level + 1}_dropout")(x)
        x = keras.layers.Concatenate(name=f"up{level + 1}_skip")([skips.pop(), x])
    return keras.Model(inputs, x, name=name)
