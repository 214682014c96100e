"""How close two computations of the same maths must agree, on any CPU.

TensorFlow uses oneDNN kernels by default on Intel CPUs with AVX-512 and not on
AMD ones, vector widths differ between machines, and graph mode fuses ops that
eager mode runs one at a time. So two *different* computations of the same
float32 maths (traced against eager, a SavedModel against the Keras model, a
composed pair of models against the whole) round differently by machine. Those
comparisons use the tolerances here. A computation compared with itself (saved
and loaded, resumed, repeated with one seed, or a pure copy of data) stays exact
where zoo promises it, with both sides in one process setting.

Tests that compare kernel numerics carry the `numerics` marker, and CI runs them
again with oneDNN set the other way from the machine's default.
"""
import numpy as np

# Float32 round-off, summed through the few hundred ops of a small network or
# a traced training step. Measured: traced and eager SSIM differ by 3.4e-5
# relative on an Intel Xeon with oneDNN; a real mistake is orders larger.
FLOAT32_RTOL = 1e-4
FLOAT32_ATOL = 1e-6


def assert_same_image_up_to_rounding(actual, expected, share=1e-3):
    """uint8 images from two computations: at most one grey level apart, on at
    most `share` of the values (float outputs that land on .5 round either way)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = np.abs(actual.astype(int) - expected.astype(int))
    assert difference.max() <= 1, f"{difference.max()} grey levels apart"
    assert np.mean(difference > 0) <= share, f"{np.mean(difference > 0):.2%} of values differ"
