"""The CycleGAN ResNet generator (Zhu et al. 2017, appendix 7.2; Johnson et
al. 2016), as the reference code's `ResnetGenerator` builds it:

    c7s1-ngf, d2ngf, d4ngf, R4ngf x n_blocks, u2ngf, ungf, c7s1-3

- c7s1-k: reflection padding 3, a 7x7 convolution, instance norm, ReLU;
- dk: a 3x3 stride-2 convolution (zero padding 1), instance norm, ReLU;
- Rk: a residual block: reflection pad 1, 3x3 conv, norm, ReLU, reflection
  pad 1, 3x3 conv, norm, added to the block's input;
- uk: a 3x3 stride-2 transposed convolution (PyTorch's padding=1,
  output_padding=1: the size doubles exactly), instance norm, ReLU;
- the last block is reflection padding 3, a 7x7 convolution and tanh.

9 blocks for 256 px images, 6 for 128 px. Instance norm has no learned scale
or offset, so every convolution keeps its bias: 11,378,179 parameters with
9 blocks and ngf=64.

Strides and paddings reproduce the reference's pixel alignment: the stride-2
convolutions pad 1 pixel on each side (Keras's "same" would pad only at the
end), and the transposed ones crop the first row and column of the full
output (Keras's "same" would keep it and drop the last).

The model is fully convolutional: heights and widths must be multiples of 4
and at least 8, so that the residual blocks' reflection padding has pixels
to mirror. It maps images in [-1, 1] to images in [-1, 1] and is made of
built-in Keras layers only (see `zoo.gan.padding`).
"""

from __future__ import annotations

import keras

from zoo.gan.layers import check_norm, conv_initializer, normalization, uses_bias
from zoo.gan.padding import reflection_padding

DOWNSAMPLINGS = 2
SIZE_MULTIPLE = 2 ** DOWNSAMPLINGS
RESNET_BLOCKS = (9, 6)


def _conv(filters: int, kernel: int, *, strides: int = 1, use_bias: bool = True, name: str):
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding="valid",
                               use_bias=use_bias, kernel_initializer=conv_initializer(),
                               name=name)


def _image_size(image_size):
    if image_size is None:
        return None
    size = tuple(image_size) if isinstance(image_size, (tuple, list)) else (image_size,) * 2
    if (len(size) != 2 or any(isinstance(side, bool) or not isinstance(side, int)
                              for side in size)
            or any(side % SIZE_MULTIPLE or side < 2 * SIZE_MULTIPLE for side in size)):
        raise ValueError(f"image_size must be None or sides that are multiples of "
                         f"{SIZE_MULTIPLE} of at least {2 * SIZE_MULTIPLE}. Received: "
                         f"image_size={image_size!r}")
    return size


def _size(x):
    """The static (height, width) of x, or None when they are not fixed."""
    height, width = x.shape[1:3]
    return None if height is None or width is None else (height, width)


def _residual_block(x, width: int, norm: str, bias: bool, dropout: float, name: str):
    y = reflection_padding(1, width, _size(x), name=f"{name}_pad1")(x)
    y = _conv(width, 3, use_bias=bias, name=f"{name}_conv1")(y)
    y = normalization(norm, name=f"{name}_norm1")(y)
    y = keras.layers.ReLU(name=f"{name}_relu")(y)
    if dropout > 0:
        y = keras.layers.Dropout(dropout, name=f"{name}_dropout")(y)
    y = reflection_padding(1, width, _size(y), name=f"{name}_pad2")(y)
    y = _conv(width, 3, use_bias=bias, name=f"{name}_conv2")(y)
    y = normalization(norm, name=f"{name}_norm2")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def resnet_generator(n_blocks: int = 9, *, ngf: int = 64, norm: str = "instance",
                     dropout: float = 0.0, in_channels: int = 3, out_channels: int = 3,
                     image_size=None, name: str | None = None) -> keras.Model:
    """The CycleGAN ResNet generator.

    Args:
        n_blocks: residual blocks: 9 (256 px training) or 6 (128 px); any
            positive number is accepted.
        ngf: filters of the first convolution; 2*ngf and 4*ngf after the
            two down-samplings.
        norm: `"instance"` (CycleGAN) or `"batch"`.
        dropout: dropout rate inside the residual blocks (the reference's
            `--no_dropout` default for CycleGAN is 0).
        in_channels, out_channels: image channels in and out.
        image_size: None (any multiple of 4) or the one size (int or
            (height, width)) the model will take. A fixed size lets the
            reflection padding crop each mirrored row by itself, which makes
            a training step about twice as fast on a CPU; the weights are
            the same, so `with_image_size` moves them to a model of any size.

    Returns:
        A functional `keras.Model` of built-in layers, (None, None,
        in_channels) -> (None, None, out_channels) (or the fixed size), named
        `resnet_{n_blocks}blocks` by default.
    """
    check_norm(norm)
    for option, value in (("n_blocks", n_blocks), ("ngf", ngf)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{option} must be a positive integer. Received: "
                             f"{option}={value!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    bias = uses_bias(norm)

    size = _image_size(image_size)
    inputs = keras.Input((*(size or (None, None)), in_channels), name="image")
    x = reflection_padding(3, in_channels, size, name="stem_pad")(inputs)
    x = _conv(ngf, 7, use_bias=bias, name="stem_conv")(x)
    x = normalization(norm, name="stem_norm")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)

    width = ngf
    for step in range(1, DOWNSAMPLINGS + 1):
        width *= 2
        x = keras.layers.ZeroPadding2D(1, name=f"down{step}_pad")(x)
        x = _conv(width, 3, strides=2, use_bias=bias, name=f"down{step}_conv")(x)
        x = normalization(norm, name=f"down{step}_norm")(x)
        x = keras.layers.ReLU(name=f"down{step}_relu")(x)

    for block in range(1, n_blocks + 1):
        x = _residual_block(x, width, norm, bias, dropout, name=f"res{block}")

    for step in range(1, DOWNSAMPLINGS + 1):
        width //= 2
        # "valid" gives the full 2H + 1 output; PyTorch's padding=1 and
        # output_padding=1 keep rows and columns 1 .. 2H of it.
        x = keras.layers.Conv2DTranspose(width, 3, strides=2, padding="valid", use_bias=bias,
                                         kernel_initializer=conv_initializer(),
                                         name=f"up{step}_conv")(x)
        x = keras.layers.Cropping2D(((1, 0), (1, 0)), name=f"up{step}_crop")(x)
        x = normalization(norm, name=f"up{step}_norm")(x)
        x = keras.layers.ReLU(name=f"up{step}_relu")(x)

    x = reflection_padding(3, width, size, name="head_pad")(x)
    x = _conv(out_channels, 7, name="head_conv")(x)
    x = keras.layers.Activation("tanh", name="output", dtype="float32")(x)
    return keras.Model(inputs, x, name=name or f"resnet_{n_blocks}blocks")


def with_image_size(generator: keras.Model, image_size=None) -> keras.Model:
    """The same ResNet generator, with the same weights, for another input size.

    Args:
        generator: a model `resnet_generator` built.
        image_size: None for any multiple of 4 (what to save for inference),
            or a fixed size.
    """
    names = {layer.name for layer in generator.layers}
    if not {"stem_conv", "head_conv", "res1_add"} <= names:
        raise ValueError(f"with_image_size takes a model built by resnet_generator. Received: "
                         f"{generator.name!r}")
    stem_norm = generator.get_layer("stem_norm")
    dropout = next((layer.rate for layer in generator.layers
                    if isinstance(layer, keras.layers.Dropout)), 0.0)
    rebuilt = resnet_generator(
        sum(name.endswith("_add") and name.startswith("res") for name in names),
        ngf=generator.get_layer("stem_conv").filters,
        norm="batch" if isinstance(stem_norm, keras.layers.BatchNormalization) else "instance",
        dropout=dropout, in_channels=generator.input.shape[-1],
        out_channels=generator.get_layer("head_conv").filters, image_size=image_size,
        name=generator.name)
    rebuilt.set_weights(generator.get_weights())
    return rebuilt
