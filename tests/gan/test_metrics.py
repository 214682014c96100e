"""Per-image L1, PSNR and SSIM on the [0, 1] scale, eagerly and traced."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.gan.metrics import from_uint8, l1, psnr, ssim, to_uint8, to_unit

from tolerances import FLOAT32_RTOL


# Compares floats from TensorFlow's kernels: CI runs it with oneDNN flipped too.
pytestmark = pytest.mark.numerics


def _images(seed, shape=(3, 16, 16, 3)):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape).astype("float32")


def test_conversions_round_trip_and_clip():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    floats = from_uint8(pixels).numpy()
    assert floats.dtype == np.float32
    assert floats.min() == -1.0 and floats.max() == 1.0
    np.testing.assert_array_equal(to_uint8(floats).numpy(), pixels)
    # Rounded to nearest, clipped outside [-1, 1].
    np.testing.assert_array_equal(to_uint8(np.array([-3.0, -1.0, 0.0, 0.999, 2.0])).numpy(),
                                  [0, 0, 128, 255, 255])
    np.testing.assert_allclose(to_unit(np.array([-2.0, -1.0, 0.0, 0.5, 1.5])).numpy(),
                               [0.0, 0.0, 0.5, 0.75, 1.0])
    with pytest.raises(TypeError, match="uint8"):
        from_uint8(floats)


def test_scores_on_the_unit_scale():
    a = np.full((2, 8, 8, 3), -1.0, "float32")
    b = a.copy()
    b[1] = 0.0  # the second pair differs by 0.5 on the [0, 1] scale
    np.testing.assert_allclose(l1(a, b).numpy(), [0.0, 0.5])
    scores = psnr(a, b).numpy()
    assert np.isinf(scores[0])
    np.testing.assert_allclose(scores[1], 10 * np.log10(1 / 0.25), rtol=1e-5)
    similarity = ssim(a, b).numpy()
    assert similarity.shape == (2,)
    np.testing.assert_allclose(similarity[0], 1.0, atol=1e-6)
    assert similarity[1] < 0.9


def test_noise_ranks_worse_on_every_score():
    clean = _images(0)
    slightly = np.clip(clean + 0.02 * _images(1), -1, 1)
    very = np.clip(clean + 0.5 * _images(2), -1, 1)
    assert np.all(l1(clean, slightly).numpy() < l1(clean, very).numpy())
    assert np.all(psnr(clean, slightly).numpy() > psnr(clean, very).numpy())
    assert np.all(ssim(clean, slightly).numpy() > ssim(clean, very).numpy())


def test_uint8_is_read_as_pixels():
    pixels = np.random.default_rng(3).integers(0, 256, (2, 12, 12, 3), dtype=np.uint8)
    other = np.random.default_rng(4).integers(0, 256, (2, 12, 12, 3), dtype=np.uint8)
    np.testing.assert_allclose(l1(pixels, other).numpy(),
                               l1(from_uint8(pixels), from_uint8(other)).numpy(), rtol=1e-6)
    expected = np.abs(pixels / 255.0 - other / 255.0).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(l1(pixels, other).numpy(), expected, rtol=1e-5)
    with pytest.raises(TypeError, match=r"\[-1, 1\]"):
        l1(pixels.astype("int32"), other.astype("int32"))


def test_ssim_on_images_smaller_than_its_window():
    a = _images(5, (2, 6, 9, 3))
    assert ssim(a, a).numpy() == pytest.approx([1.0, 1.0], abs=1e-5)
    assert np.all(ssim(a, _images(6, (2, 6, 9, 3))).numpy() < 0.5)


def test_inside_a_traced_step():
    @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 3), tf.float32)] * 2)
    def step(a, b):
        return l1(a, b), psnr(a, b), ssim(a, b)

    a, b = _images(7, (4, 8, 8, 3)), _images(8, (4, 8, 8, 3))
    traced = [score.numpy() for score in step(a, b)]
    eager = [l1(a, b).numpy(), psnr(a, b).numpy(), ssim(a, b).numpy()]
    for mine, reference in zip(traced, eager):
        assert mine.shape == (4,)
        # A traced graph may fuse and order float32 sums differently from
        # eager ops (oneDNN's kernels more so): round-off of ~1e-5 relative.
        np.testing.assert_allclose(mine, reference, rtol=FLOAT32_RTOL)


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match="same shape"):
        l1(_images(0, (2, 8, 8, 3)), _images(0, (2, 8, 9, 3)))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        ssim(_images(0, (8, 8, 3)), _images(0, (8, 8, 3)))
