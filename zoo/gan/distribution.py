"""How close two sets of images are as distributions: FID and KID.

Both compare features of the images, not the pixels, so they judge a
generator by how realistic its outputs look as a set rather than by how
well each output matches its own target:

    >>> scores = distribution_scores(real_uint8, fake_uint8, inception_extractor())
    >>> scores                                   # {"fid": 41.3, "kid": 0.021}

The feature extractor is pluggable: any callable from uint8 images
(N, H, W, 3) to a float array (N, D). `inception_extractor()` is the standard
one (InceptionV3's pooled features at 299x299, ImageNet weights), the only
one whose scores compare with published numbers. `pixel_projection_extractor()`
is a cheap, fixed random projection of downscaled pixels for tests and CPU
smoke runs; its scores only compare with each other.

Few images: FID is biased upwards when the sets are small (the covariance
of fewer images than feature dimensions is singular), so compare FIDs only
when they were computed on the same number of images. KID is unbiased and
behaves better with few images; it is averaged over random subsets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zoo.backbones import backbone_info
from zoo.gan.uint8 import check_uint8_batch
from zoo.weights import fetch_imagenet_weights, load_backbone_weights

Extractor = Callable[[np.ndarray], np.ndarray]

INCEPTION = "inception_v3"
# The input side FID's reference implementation resizes every image to.
INCEPTION_SIZE = 299


EXTRACTOR_CHOICES = ("auto", "inception", "none")


def extractor_for(choice: str):
    """The FID/KID extractor a recipe's `--fid` asks for, or None.

    Args:
        choice: "none"; "inception" (InceptionV3 with ImageNet weights, an
            error when they cannot be had); or "auto" (the same, or None with
            the reason printed when the weights cannot be had).
    """
    if choice == "none":
        return None
    from zoo.errors import WeightsUnavailableError

    try:
        return remembering(inception_extractor())
    except WeightsUnavailableError as exc:
        if choice == "inception":
            raise
        reason = (str(exc).strip().splitlines() or ["unavailable"])[0]
        print(f"[fid] FID and KID are skipped: {reason} On a machine with internet, "
              f"`zoo weights fetch inception_v3` gets them; --fid none skips this message.")
        return None


def remembering(extractor: Extractor) -> Extractor:
    """`extractor`, computing the features of each distinct batch once.

    A comparison table scores several translators (the input itself, a
    baseline, the model) against the same held-out targets: their features
    are then computed for the first row only. Batches are told apart by a
    hash of their pixels.
    """
    import hashlib

    known: dict[tuple, np.ndarray] = {}

    def extract(images):
        images = np.ascontiguousarray(images)
        key = (images.shape, str(images.dtype), hashlib.sha256(images.tobytes()).hexdigest())
        if key not in known:
            known[key] = np.asarray(extractor(images))
        return known[key]

    return extract


def inception_extractor(weights="imagenet", batch_size: int = 32) -> Extractor:
    """InceptionV3 pooled features (2048 wide) of images resized to 299x299.

    Args:
        weights: `"imagenet"` (from the Keras cache, downloaded when missing;
            the standard FID network), `None` (random weights: only for
            testing the plumbing) or the path of an InceptionV3 weights file.
        batch_size: images per forward pass, bounding memory.

    Returns:
        A callable mapping uint8 images (N, H, W, 3) to float64 (N, 2048).

    Raises:
        WeightsUnavailableError: weights="imagenet" offline without the file
            in the Keras cache; the message names the file and the remedies.
    """
    import tensorflow as tf

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: "
                         f"batch_size={batch_size!r}")
    spec = backbone_info(INCEPTION)
    if weights == "imagenet":
        # Fetch before building so that being offline fails within seconds
        # with zoo's error, not a bare URLError from inside Keras.
        weights = fetch_imagenet_weights(spec.name, include_top=False)
    model = spec.build((INCEPTION_SIZE, INCEPTION_SIZE, 3), weights=None, pooling="avg")
    if weights is not None:
        load_backbone_weights(model, spec, weights)

    @tf.function(reduce_retracing=True)
    def forward(batch):
        resized = tf.image.resize(tf.cast(batch, tf.float32),
                                  (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
        # InceptionV3's "tf" preprocessing: 0..255 -> [-1, 1].
        return model(resized / 127.5 - 1.0, training=False)

    def extract(images) -> np.ndarray:
        images = _check_images(images, "images")
        parts = [forward(images[start:start + batch_size]).numpy()
                 for start in range(0, len(images), batch_size)]
        return np.concatenate(parts).astype(np.float64)

    return extract


def pixel_projection_extractor(dim: int = 64, size: int = 16, seed: int = 0) -> Extractor:
    """A fixed random projection of downscaled pixels: a cheap stand-in extractor.

    Images are averaged down to `size` x `size`, scaled to [-1, 1] and
    projected onto `dim` fixed Gaussian directions. It needs no weights and
    runs in milliseconds, so tests and CPU smoke runs can exercise FID/KID;
    its numbers are not comparable with Inception-based ones.

    Args:
        dim: feature width.
        size: side the images are resized to before the projection.
        seed: fixes the projection, so scores from separate calls compare.
    """
    import tensorflow as tf

    for name, value in (("dim", dim), ("size", size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    inputs = size * size * 3
    projection = np.random.default_rng(seed).normal(size=(inputs, dim)) / np.sqrt(inputs)

    def extract(images) -> np.ndarray:
        images = _check_images(images, "images")
        small = tf.image.resize(tf.cast(images, tf.float32), (size, size), method="area")
        pixels = small.numpy().reshape(len(images), inputs) / 127.5 - 1.0
        return pixels @ projection

    return extract


def frechet_distance(features_a, features_b) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (FID on Inception).

    d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

    The trace of the matrix square root is computed as the sum of the square
    roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2), which has the same
    eigenvalues as S_a S_b but is symmetric: the result is real and exact
    even for the singular covariances of small sets, and at D=2048 it is
    several times faster than scipy.linalg.sqrtm (which it matches).

    Args:
        features_a, features_b: (N, D) arrays with the same D, N >= 2 each.
    """
    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    _check_same_width(a, b)
    mean_a, cov_a = a.mean(axis=0), np.atleast_2d(np.cov(a, rowvar=False))
    mean_b, cov_b = b.mean(axis=0), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_sqrt(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0.0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    # Rounding can leave a tiny negative number for identical sets.
    return float(max(distance, 0.0))


def kernel_inception_distance(features_a, features_b, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> float:
    """The unbiased squared MMD with a cubic polynomial kernel (KID on Inception).

    k(x, y) = (x.y / D + 1)^3, as in Binkowski et al., "Demystifying MMD
    GANs" (2018). The estimate is averaged over `subsets` random subsets of
    `subset_size` features drawn without replacement from each set; with
    fewer features than that, each subset is a whole set (shuffled). Being
    unbiased, it can be slightly negative when the sets are alike.

    Args:
        features_a, features_b: (N, D) arrays with the same D, N >= 2 each.
        subsets: how many subsets to average.
        subset_size: features per subset, at most the smaller set's size.
        seed: fixes the subsets, so a repeated call gives the same number.
    """
    a = _check_features(features_a, "features_a")
    b = _check_features(features_b, "features_b")
    _check_same_width(a, b)
    for name, value in (("subsets", subsets), ("subset_size", subset_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError(f"KID needs subsets of at least 2 features. Received: "
                         f"subset_size={subset_size!r}")
    rng = np.random.default_rng(seed)
    estimates = [_mmd2_unbiased(a[rng.choice(len(a), size, replace=False)],
                                b[rng.choice(len(b), size, replace=False)])
                 for _ in range(subsets)]
    return float(np.mean(estimates))


def feature_scores(real_features, fake_features, *, kid_subsets: int = 100,
                   kid_subset_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """`{"fid": ..., "kid": ...}` from features already extracted."""
    return {
        "fid": frechet_distance(real_features, fake_features),
        "kid": kernel_inception_distance(real_features, fake_features, subsets=kid_subsets,
                                         subset_size=kid_subset_size, seed=seed),
    }


def distribution_scores(real_uint8, fake_uint8, extractor: Extractor, *,
                        kid_subsets: int = 100, kid_subset_size: int = 1000,
                        seed: int = 0) -> dict[str, float]:
    """FID and KID between real and generated images; lower is better for both.

    Args:
        real_uint8, fake_uint8: uint8 RGB images (N, H, W, 3), at least 2
            each; the two sets may differ in size and in image size.
        extractor: uint8 images -> float features (N, D), e.g.
            `inception_extractor()`.
        kid_subsets, kid_subset_size, seed: see `kernel_inception_distance`.

    Returns:
        `{"fid": float, "kid": float}`.
    """
    real = _extract(extractor, _check_images(real_uint8, "real_uint8"), "real_uint8")
    fake = _extract(extractor, _check_images(fake_uint8, "fake_uint8"), "fake_uint8")
    return feature_scores(real, fake, kid_subsets=kid_subsets,
                          kid_subset_size=kid_subset_size, seed=seed)


def _mmd2_unbiased(x, y) -> float:
    dim = x.shape[1]
    k_xx = (x @ x.T / dim + 1.0) ** 3
    k_yy = (y @ y.T / dim + 1.0) ** 3
    k_xy = (x @ y.T / dim + 1.0) ** 3
    m = len(x)
    # The diagonal (each point with itself) is left out: that is what makes it unbiased.
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return within - 2.0 * k_xy.mean()


def _psd_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _check_images(images, name) -> np.ndarray:
    images = check_uint8_batch(images, name)
    if len(images) < 2:
        raise ValueError(f"{name} needs at least 2 images to estimate a distribution. "
                         f"Received: {len(images)}")
    return images


def _check_features(features, name) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2 or features.shape[1] < 1:
        raise ValueError(f"{name} must be an (N, D) array with N >= 2. Received: shape "
                         f"{features.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} holds NaN or infinite values; check the extractor.")
    return features


def _check_same_width(a, b):
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Both feature sets must have the same width D. Received: "
                         f"{a.shape[1]} and {b.shape[1]}")


def _extract(extractor, images, name) -> np.ndarray:
    features = np.asarray(extractor(images))
    if features.ndim != 2 or len(features) != len(images):
        raise ValueError(f"The extractor must return one feature row per image, (N, D). "
                         f"For {name} with {len(images)} images it returned shape "
                         f"{features.shape}")
    return features
