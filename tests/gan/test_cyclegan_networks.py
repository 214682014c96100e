"""The CycleGAN ResNet generator matches the reference implementation: the
parameter count, reflection padding equal to NumPy's, PyTorch's pixel
alignment of the stride-2 and transposed convolutions, instance norm
without affine parameters, and built-in Keras layers only."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from zoo.gan.padding import reflection_padding
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.cyclegan.resnet import resnet_generator, with_image_size

from tolerances import FLOAT32_RTOL

# Keras convolutions against NumPy references: see tests/tolerances.py. Padding is
# a copy of values, and stays exact.
pytestmark = pytest.mark.numerics


def trainable_count(model) -> int:
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def test_resnet_generators_and_patchgan_have_the_reference_parameter_counts():
    nine = resnet_generator(9)
    assert trainable_count(nine) == 11_378_179
    assert not nine.non_trainable_weights  # the padding has no weights
    # Three residual blocks of two 256 -> 256 3x3 convolutions (with biases) fewer.
    assert trainable_count(resnet_generator(6)) == 11_378_179 - 3 * 2 * (256 * 256 * 9 + 256)
    assert trainable_count(patchgan_discriminator(3, norm="instance")) == 2_764_737


@pytest.mark.parametrize("pad", [1, 2, 3])
@pytest.mark.parametrize("height, width", [(4, 4), (5, 9), (8, 6)])
def test_reflection_padding_equals_numpy_reflect(pad, height, width):
    x = np.random.RandomState(pad).standard_normal((2, height, width, 3)).astype("float32")
    padded = reflection_padding(pad)(x).numpy()
    expected = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(padded, expected)


def test_reflection_padding_gradient_folds_the_border_back():
    x = tf.Variable(np.arange(12, dtype="float32").reshape(1, 3, 4, 1))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(reflection_padding(1)(x))
    # Each pixel counts once per copy of it in the padded image (np.pad's adjoint).
    counts = np.pad(np.ones((3, 4)), 1, mode="reflect")
    adjoint = np.zeros((3, 4))
    index = np.pad(np.arange(12).reshape(3, 4), 1, mode="reflect")
    np.add.at(adjoint.reshape(-1), index.reshape(-1), counts.reshape(-1))
    np.testing.assert_array_equal(tape.gradient(total, x).numpy()[0, :, :, 0], adjoint)
    with pytest.raises(ValueError, match="pad"):
        reflection_padding(0)


@pytest.mark.parametrize("height, width", [(32, 48), (40, 24), (8, 12)])
def test_generator_is_fully_convolutional_and_ends_in_tanh(height, width):
    model = resnet_generator(2, ngf=4)
    out = model(np.random.uniform(-1, 1, (2, height, width, 3)).astype("float32"))
    assert tuple(out.shape) == (2, height, width, 3)
    assert float(tf.reduce_max(tf.abs(out))) <= 1.0
    assert model.get_layer("output").activation.__name__ == "tanh"


def test_generator_uses_built_in_layers_and_affine_free_instance_norm_with_biases():
    model = resnet_generator(2, ngf=4)
    kinds = {type(layer) for layer in all_layers(model)}
    assert all(kind.__module__.startswith("keras.") for kind in kinds), kinds
    assert keras.layers.Lambda not in kinds
    norms = [layer for layer in all_layers(model)
             if isinstance(layer, keras.layers.GroupNormalization)]
    assert len(norms) == 1 + 2 + 2 * 2 + 2
    # groups=-1 becomes one group per channel when built.
    assert all(n.groups == n.input.shape[-1] and not n.center and not n.scale for n in norms)
    convs = [layer for layer in all_layers(model)
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert all(conv.use_bias for conv in convs)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in all_layers(model))
    assert any(isinstance(layer, keras.layers.Dropout)
               for layer in all_layers(resnet_generator(1, ngf=4, dropout=0.5)))
    with pytest.raises(ValueError, match="n_blocks"):
        resnet_generator(0)


def torch_conv(x, kernel, bias, stride, padding):
    """PyTorch's Conv2d (cross-correlation) on one (H, W, C) image, in NumPy."""
    x = np.pad(x, [(padding, padding), (padding, padding), (0, 0)])
    k = kernel.shape[0]
    rows = (x.shape[0] - k) // stride + 1
    cols = (x.shape[1] - k) // stride + 1
    out = np.zeros((rows, cols, kernel.shape[-1]))
    for i in range(rows):
        for j in range(cols):
            window = x[i * stride:i * stride + k, j * stride:j * stride + k]
            out[i, j] = np.tensordot(window, kernel, axes=3) + bias
    return out


def torch_conv_transpose(x, kernel, bias, stride=2, padding=1, output_padding=1):
    """PyTorch's ConvTranspose2d on one (H, W, C) image, with a Keras-layout
    kernel (k, k, out, in): input pixel (i, j) adds into output (s i + a - p, s j + b - p)."""
    k = kernel.shape[0]
    height, width = x.shape[:2]
    full = np.zeros(((height - 1) * stride + k, (width - 1) * stride + k, kernel.shape[2]))
    for i in range(height):
        for j in range(width):
            full[i * stride:i * stride + k, j * stride:j * stride + k] += kernel @ x[i, j]
    size = ((height - 1) * stride - 2 * padding + k + output_padding,
            (width - 1) * stride - 2 * padding + k + output_padding)
    return full[padding:padding + size[0], padding:padding + size[1]] + bias


def test_strided_and_transposed_convolutions_have_pytorchs_pixel_alignment():
    model = resnet_generator(1, ngf=2)
    rng = np.random.RandomState(0)
    for layer in (model.get_layer("down1_conv"), model.get_layer("up1_conv")):
        layer.bias.assign(rng.standard_normal(layer.bias.shape))

    features = rng.standard_normal((1, 8, 12, 2)).astype("float32")
    down = keras.Model(model.get_layer("down1_pad").input, model.get_layer("down1_conv").output)
    kernel, bias = (w.numpy() for w in model.get_layer("down1_conv").weights)
    np.testing.assert_allclose(down(features).numpy()[0],
                               torch_conv(features[0], kernel, bias, 2, 1),
                               rtol=FLOAT32_RTOL, atol=1e-5)

    features = rng.standard_normal((1, 3, 5, 8)).astype("float32")
    up = keras.Model(model.get_layer("up1_conv").input, model.get_layer("up1_crop").output)
    kernel, bias = (w.numpy() for w in model.get_layer("up1_conv").weights)
    out = up(features).numpy()[0]
    assert out.shape == (6, 10, 4)
    np.testing.assert_allclose(out, torch_conv_transpose(features[0], kernel, bias),
                               rtol=FLOAT32_RTOL, atol=1e-5)


@pytest.mark.parametrize("pad", [1, 3])
def test_reflection_padding_for_a_known_size_equals_numpy_reflect(pad):
    x = np.random.RandomState(pad).standard_normal((2, 5, 8, 3)).astype("float32")
    padded = reflection_padding(pad, 3, size=(5, 8))(x).numpy()
    expected = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(padded, expected)
    with pytest.raises(ValueError, match="larger than 3"):
        reflection_padding(3, size=(3, 8))


def test_a_fixed_size_generator_and_its_any_size_copy_agree():
    fixed = resnet_generator(2, ngf=4, image_size=(24, 32))
    assert tuple(fixed.input.shape) == (None, 24, 32, 3)
    rng = np.random.RandomState(1)
    for weight in fixed.trainable_weights:
        weight.assign(rng.normal(0, 0.1, weight.shape))
    images = rng.uniform(-1, 1, (2, 24, 32, 3)).astype("float32")
    free = with_image_size(fixed)
    assert tuple(free.input.shape) == (None, None, None, 3)
    np.testing.assert_array_equal(free(images).numpy(), fixed(images).numpy())
    assert free(images[:, :16, :20]).shape == (2, 16, 20, 3)
    with pytest.raises(ValueError, match="image_size"):
        resnet_generator(2, ngf=4, image_size=30)
    with pytest.raises(ValueError, match="resnet_generator"):
        with_image_size(patchgan_discriminator(3, ndf=4))
