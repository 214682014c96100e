"""FID and KID: closed forms, orderings, and the offline Inception extractor."""

import time

import numpy as np
import pytest
import scipy.linalg

import zoo
from zoo.gan.distribution import (
    distribution_scores,
    frechet_distance,
    inception_extractor,
    kernel_inception_distance,
    pixel_projection_extractor,
)


def _with_moments(rng, count, mean, covariance):
    """Samples whose sample mean and covariance (ddof=1) are exactly the given ones."""
    dim = len(mean)
    z = rng.normal(size=(count, dim))
    z -= z.mean(axis=0)
    # Whiten to an identity sample covariance, then colour.
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return z @ np.linalg.cholesky(covariance).T + mean


def _random_covariance(rng, dim):
    m = rng.normal(size=(dim, dim))
    return m @ m.T + 0.1 * np.eye(dim)


def test_fid_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(32, 48))  # fewer samples than dims
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_fid_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(1)
    mean_a, mean_b = rng.normal(size=5), rng.normal(size=5) + 1.0
    cov_a, cov_b = _random_covariance(rng, 5), _random_covariance(rng, 5)
    a = _with_moments(rng, 200, mean_a, cov_a)
    b = _with_moments(rng, 300, mean_b, cov_b)
    # The reference uses scipy's general matrix square root of the (non-symmetric) product.
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * root)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_fid_of_diagonal_gaussians_from_samples():
    """Independent coordinates: d^2 = |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2."""
    rng = np.random.default_rng(2)
    sigma_a, sigma_b = np.array([1.0, 2.0, 0.5]), np.array([1.5, 1.0, 0.5])
    a = rng.normal(0.0, sigma_a, size=(20000, 3))
    b = rng.normal([1.0, 0.0, -1.0], sigma_b, size=(20000, 3))
    expected = 2.0 + np.sum((sigma_a - sigma_b) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.03)


def test_kid_is_near_zero_for_one_distribution_and_larger_when_shifted():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(64, 16)), rng.normal(size=(64, 16))
    shifted = rng.normal(size=(64, 16)) + 0.5
    same = kernel_inception_distance(a, b, subsets=20, subset_size=32)
    different = kernel_inception_distance(a, shifted, subsets=20, subset_size=32)
    assert abs(same) < 0.05
    assert different > 0.3
    assert different > 10 * abs(same)
    # Seeded: the same call gives the same number.
    assert kernel_inception_distance(a, b, subsets=20, subset_size=32) == same


def test_kid_matches_a_direct_unbiased_estimate():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 4)) + 0.3

    def k(p, q):
        return (p @ q / 4 + 1) ** 3

    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(10) for j in range(10) if i != j)
    across = sum(k(x[i], y[j]) for i in range(10) for j in range(10))
    expected = within / 90 - 2 * across / 100
    # subset_size equal to the set sizes: every subset is the whole set.
    assert kernel_inception_distance(x, y, subsets=3, subset_size=50) == pytest.approx(expected)


def test_distribution_scores_rank_a_noisy_copy_worse():
    rng = np.random.default_rng(5)
    real = rng.integers(0, 256, size=(32, 24, 24, 3)).astype(np.uint8)
    # Smooth structure so that downscaling keeps a signal.
    real = np.repeat(np.repeat(real[:, :6, :6], 4, axis=1), 4, axis=2)
    near = np.clip(real.astype(int) + rng.integers(-3, 4, real.shape), 0, 255).astype(np.uint8)
    noisy = np.clip(real.astype(int) + rng.integers(-90, 91, real.shape), 0, 255).astype(
        np.uint8)
    extractor = pixel_projection_extractor(dim=16, size=8)
    close = distribution_scores(real, near, extractor, kid_subset_size=16)
    far = distribution_scores(real, noisy, extractor, kid_subset_size=16)
    assert set(close) == {"fid", "kid"}
    assert close["fid"] < far["fid"]
    assert close["kid"] < far["kid"]


def test_bad_inputs_are_named():
    extractor = pixel_projection_extractor(dim=4, size=4)
    images = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="fake_uint8 must be uint8"):
        distribution_scores(images, images.astype("float32"), extractor)
    with pytest.raises(ValueError, match="at least 2 images"):
        distribution_scores(images, images[:1], extractor)
    with pytest.raises(ValueError, match="one feature row per image"):
        distribution_scores(images, images, lambda batch: np.zeros((1, 4)))
    with pytest.raises(ValueError, match="same width"):
        frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))


def test_inception_offline_fails_fast_with_the_remedy(keras_home, no_network):
    # keras_home is an empty cache of this test's own, so the weights file is
    # missing even on a machine whose ~/.keras holds it: no skip is needed.
    status = zoo.imagenet_weights_status("inception_v3")
    assert not status.present
    started = time.monotonic()
    with pytest.raises(zoo.WeightsUnavailableError) as info:
        inception_extractor()
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert "'inception_v3'" in message
    assert "zoo weights fetch inception_v3" in message
    assert str(status.path) in message


@pytest.mark.slow
def test_inception_extractor_loads_a_weights_file_and_preprocesses(tmp_path):
    import tensorflow as tf

    source = zoo.backbone_info("inception_v3").build((299, 299, 3), weights=None)
    path = tmp_path / "inception.weights.h5"
    source.save_weights(path)
    images = np.random.default_rng(6).integers(0, 256, (3, 40, 50, 3), dtype=np.uint8)
    features = inception_extractor(weights=str(path), batch_size=2)(images)
    assert features.shape == (3, 2048) and features.dtype == np.float64
    resized = tf.image.resize(images.astype("float32"), (299, 299))
    expected = source(resized / 127.5 - 1.0, training=False).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)


def test_a_table_computes_the_targets_features_once():
    from zoo.gan.distribution import pixel_projection_extractor, remembering
    from zoo.gan.evaluation import input_baseline, paired_scores

    seen = []
    projection = pixel_projection_extractor()

    def counting(images):
        seen.append(len(images))
        return projection(images)

    rng = np.random.default_rng(0)
    pairs = [(rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8),
              rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)) for _ in range(2)]
    extractor = remembering(counting)
    plain = paired_scores(lambda a: 255 - a, pairs, extractor=counting)
    rows = [input_baseline(pairs, extractor=extractor),
            paired_scores(lambda a: 255 - a, pairs, extractor=extractor),
            paired_scores(lambda a: a // 2, pairs, extractor=extractor)]
    seen.clear()
    paired_scores(lambda a: a // 3, pairs, extractor=extractor)
    assert seen == [4, 4]  # the two new output batches only: the targets are known
    assert rows[1]["fid"] == plain["fid"] and rows[1]["kid"] == plain["kid"]
