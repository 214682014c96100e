"""The U-Net and the PatchGAN match the Pix2Pix/CycleGAN reference
implementation: parameter counts, output and receptive-field sizes, where
normalisation, biases and dropout go, and the initialisation."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from zoo.gan.layers import BATCHNORM_MOMENTUM, NORM_EPSILON
from zoo.gan.patchgan import patch_receptive_field, patchgan_discriminator
from zoo.gan.pix2pix.unet import unet_depth, unet_generator


def trainable_count(model) -> int:
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_unet_256_with_batch_norm_has_the_reference_parameter_count():
    assert trainable_count(unet_generator(256, norm="batch")) == 54_413_955


def test_patchgan_parameter_counts_match_the_reference():
    assert trainable_count(patchgan_discriminator(6, norm="batch")) == 2_768_705
    assert trainable_count(patchgan_discriminator(3, norm="instance")) == 2_764_737


def test_patchgan_gives_30x30_patches_for_256_px_and_a_70_px_receptive_field():
    model = patchgan_discriminator(6, ndf=4)
    assert tuple(model(np.zeros((1, 256, 256, 6), "float32")).shape) == (1, 30, 30, 1)
    assert patch_receptive_field(3) == 70

    # Measured: the input pixels that the centre output unit depends on.
    image = tf.random.normal((1, 128, 128, 6), seed=1)
    with tf.GradientTape() as tape:
        tape.watch(image)
        logits = model(image, training=False)
        centre = logits[0, 7, 7, 0]
    grads = tf.reduce_sum(tf.abs(tape.gradient(centre, image)), axis=[0, 3]).numpy()
    rows, cols = np.nonzero(grads)
    assert rows.max() - rows.min() + 1 == 70
    assert cols.max() - cols.min() + 1 == 70


@pytest.mark.parametrize("size, depth", [(256, 8), (128, 7), (64, 6), ((32, 64), 5)])
def test_unet_depth_takes_the_image_down_to_1x1(size, depth):
    assert unet_depth(size) == depth


@pytest.mark.parametrize("size", [0, 2, 100, 96])
def test_unet_depth_rejects_sizes_that_do_not_reach_1x1(size):
    with pytest.raises(ValueError, match="power of two"):
        unet_depth(size)


def test_unet_is_fully_convolutional_and_ends_in_tanh():
    model = unet_generator(32, ngf=4)
    out = model(np.random.uniform(-1, 1, (2, 64, 96, 3)).astype("float32"))
    assert tuple(out.shape) == (2, 64, 96, 3)
    assert float(tf.reduce_max(tf.abs(out))) <= 1.0
    assert model.get_layer("output").activation.__name__ == "tanh"


def test_unet_innermost_layer_is_not_normalised_so_the_bottleneck_varies():
    model = unet_generator(32, ngf=4)  # depth 5: down5 is the 1x1 bottleneck
    names = {layer.name for layer in model.layers}
    assert "down5_norm" not in names and "down1_norm" not in names
    assert {"down2_norm", "down3_norm", "down4_norm"} <= names
    bottleneck = keras.Model(model.input, model.get_layer("down5_conv").output)
    first, second = (bottleneck(np.random.RandomState(s).uniform(-1, 1, (1, 32, 32, 3)))
                     for s in (0, 1))
    assert first.shape[1:3] == (1, 1)
    assert not np.allclose(first, second)


def test_unet_dropout_sits_in_the_three_innermost_decoder_blocks():
    model = unet_generator(256, ngf=4)
    dropouts = [layer.name for layer in layers_of(model, keras.layers.Dropout)]
    assert dropouts == ["up8_dropout", "up7_dropout", "up6_dropout"]
    assert all(layer.rate == 0.5 for layer in layers_of(model, keras.layers.Dropout))


def test_biases_only_where_no_batch_norm_follows():
    batch = unet_generator(32, ngf=4, norm="batch")
    convs = layers_of(batch, keras.layers.Conv2D) + layers_of(batch, keras.layers.Conv2DTranspose)
    with_bias = sorted(layer.name for layer in convs if layer.use_bias)
    assert with_bias == ["up1_conv"]  # the last layer, before tanh
    instance = unet_generator(32, ngf=4, norm="instance")
    assert all(layer.use_bias for layer in layers_of(instance, keras.layers.Conv2D))

    disc = patchgan_discriminator(6, ndf=4, norm="batch")
    biased = [layer.name for layer in layers_of(disc, keras.layers.Conv2D) if layer.use_bias]
    assert biased == ["block1_conv", "logits"]


def test_norm_layers_have_the_reference_settings():
    batch_norms = layers_of(unet_generator(32, ngf=4, norm="batch"),
                            keras.layers.BatchNormalization)
    assert batch_norms and all(layer.momentum == BATCHNORM_MOMENTUM == 0.9
                               and layer.epsilon == NORM_EPSILON == 1e-5
                               for layer in batch_norms)
    instance_norms = layers_of(unet_generator(32, ngf=4, norm="instance"),
                               keras.layers.GroupNormalization)
    # groups=-1 becomes one group per channel when built: instance norm.
    assert instance_norms and all(
        layer.groups == layer.input.shape[-1] and not layer.center and not layer.scale
        and layer.epsilon == NORM_EPSILON for layer in instance_norms)
    with pytest.raises(ValueError, match="norm must be one of"):
        unet_generator(32, norm="layer")


def test_leaky_relu_slope_is_0_2():
    for model in (unet_generator(32, ngf=4), patchgan_discriminator(6, ndf=4)):
        slopes = {round(float(layer.negative_slope), 6)
                  for layer in layers_of(model, keras.layers.LeakyReLU)}
        assert slopes == {0.2}


def test_weights_start_from_normal_0_0_02():
    model = unet_generator(64, ngf=16)
    kernels = np.concatenate([layer.kernel.numpy().ravel()
                              for layer in layers_of(model, keras.layers.Conv2D)])
    assert abs(kernels.mean()) < 1e-3
    assert abs(kernels.std() - 0.02) < 1e-3
    gammas = np.concatenate([layer.gamma.numpy() for layer in
                             layers_of(model, keras.layers.BatchNormalization)])
    assert abs(gammas.mean() - 1.0) < 5e-3 and 0.01 < gammas.std() < 0.03
