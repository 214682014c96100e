"""The PatchGAN discriminator of Pix2Pix and CycleGAN (the reference's
`NLayerDiscriminator`).

It scores overlapping patches rather than the whole image: with
`n_layers=3` each output unit sees a 70x70 patch, and a 256 px input gives
a 30x30 map of real/fake logits. Blocks are conv -> norm -> LeakyReLU(0.2);
the first has no norm, the last conv has stride 1 and gives one channel of
logits (no sigmoid: the losses take logits). Every convolution pads by 1
pixel on each side, as the reference does, so odd sizes give the same
output sizes there too.

For Pix2Pix it is conditional: its input is the source image and the real
or translated image stacked on the channel axis (6 channels).
"""

from __future__ import annotations

import keras

from zoo.gan.layers import check_norm, conv, normalization, uses_bias

WIDEST = 8


def patch_receptive_field(n_layers: int = 3) -> int:
    """The side of the input patch one output unit sees (70 for n_layers=3)."""
    size = 1
    # Walk back from the output: two stride-1 convs, then n_layers stride-2.
    for stride in [1, 1] + [2] * n_layers:
        size = (size - 1) * stride + 4
    return size


def patchgan_discriminator(in_channels: int = 6, *, n_layers: int = 3, ndf: int = 64,
                           norm: str = "batch", name: str = "patchgan_discriminator"
                           ) -> keras.Model:
    """The PatchGAN.

    Args:
        in_channels: 6 for Pix2Pix (source and target stacked), 3 for CycleGAN.
        n_layers: stride-2 blocks; 3 gives the 70x70 PatchGAN.
        ndf: filters of the first block; they double per block up to ndf*8.
        norm: `"batch"` or `"instance"`.

    Returns:
        A functional `keras.Model`: (None, None, in_channels) -> a map of logits.
    """
    check_norm(norm)
    bias = uses_bias(norm)
    inputs = keras.Input((None, None, in_channels), name="image")
    x = inputs
    strides = [2] * n_layers + [1]
    for index, stride in enumerate(strides):
        width = ndf * min(2 ** index, WIDEST)
        x = keras.layers.ZeroPadding2D(1, name=f"block{index + 1}_pad")(x)
        x = conv(width, strides=stride, padding="valid", use_bias=bias or index == 0,
                 name=f"block{index + 1}_conv")(x)
        if index > 0:
            x = normalization(norm, name=f"block{index + 1}_norm")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"block{index + 1}_lrelu")(x)
    x = keras.layers.ZeroPadding2D(1, name="logits_pad")(x)
    x = conv(1, strides=1, padding="valid", name="logits")(x)
    x = keras.layers.Activation("linear", dtype="float32", name="patch_logits")(x)
    return keras.Model(inputs, x, name=name)
