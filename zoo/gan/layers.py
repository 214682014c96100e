"""The building blocks every zoo GAN shares: initialisers and normalisation.

The numbers follow the Pix2Pix/CycleGAN reference implementation rather
than Keras's defaults, because the published results were trained with them:

- convolution weights are drawn from N(0, 0.02), biases start at 0;
- BatchNorm scales start at N(1, 0.02); its running statistics move by 0.1
  of each batch (PyTorch's momentum 0.1 is Keras's momentum 0.9) and its
  epsilon is 1e-5 (Keras's default is 1e-3);
- instance norm is `GroupNormalization(groups=-1)`, a Keras built-in, so a
  saved generator loads without zoo. The reference uses it without
  learned scale and offset.
"""

from __future__ import annotations

import keras

NORMS = ("batch", "instance")

BATCHNORM_MOMENTUM = 0.9
NORM_EPSILON = 1e-5
INIT_STDDEV = 0.02


def conv_initializer(seed: int | None = None):
    return keras.initializers.RandomNormal(mean=0.0, stddev=INIT_STDDEV, seed=seed)


def check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}. Received: norm={norm!r}")
    return norm


def uses_bias(norm: str) -> bool:
    """Whether a convolution followed by `norm` has a bias.

    BatchNorm's offset makes a bias redundant; the reference's instance norm
    has no offset, so its convolutions keep theirs.
    """
    return check_norm(norm) == "instance"


def normalization(norm: str, name: str | None = None) -> keras.layers.Layer:
    """A batch or instance normalisation layer with the reference's settings."""
    if check_norm(norm) == "batch":
        return keras.layers.BatchNormalization(
            momentum=BATCHNORM_MOMENTUM, epsilon=NORM_EPSILON,
            gamma_initializer=keras.initializers.RandomNormal(mean=1.0, stddev=INIT_STDDEV),
            name=name)
    return keras.layers.GroupNormalization(groups=-1, epsilon=NORM_EPSILON, center=False,
                                           scale=False, name=name)


def conv(filters: int, *, strides: int = 2, use_bias: bool = True, padding: str = "same",
         name: str | None = None) -> keras.layers.Conv2D:
    """The 4x4 convolution of the U-Net and the PatchGAN."""
    return keras.layers.Conv2D(filters, 4, strides=strides, padding=padding, use_bias=use_bias,
                               kernel_initializer=conv_initializer(), name=name)


def up_conv(filters: int, *, use_bias: bool = True, name: str | None = None):
    """The 4x4, stride-2 transposed convolution that doubles the height and width."""
    return keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same",
                                        use_bias=use_bias, kernel_initializer=conv_initializer(),
                                        name=name)
