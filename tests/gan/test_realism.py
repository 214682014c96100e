"""The realism measures tell blurred outputs from sharp targets, and say
nothing is wrong when the outputs are drawn like the targets."""

import numpy as np
import pytest
from PIL import Image, ImageFilter

from zoo.gan.evaluation import comparison_table, score_rows
from zoo.gan.realism import (
    radial_power_spectrum,
    realism_scores,
    spectral_distance,
    two_sample_accuracy,
)

SIZE = 32


def photo_crops(count, seed):
    from skimage import data

    rng = np.random.default_rng(seed)
    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    crops = []
    for index in range(count):
        photo = photos[index % len(photos)][..., :3]
        top, left = rng.integers(0, photo.shape[0] - SIZE), rng.integers(0, photo.shape[1] - SIZE)
        crops.append(photo[top:top + SIZE, left:left + SIZE])
    return np.stack(crops).astype(np.uint8)


def blurred(images, radius=2.0):
    return np.stack([np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)))
                     for image in images])


def test_the_spectrum_has_a_ring_per_frequency_and_blur_lowers_the_high_ones():
    real = photo_crops(16, 0)
    spectrum = radial_power_spectrum(real)
    assert spectrum.shape == (16, SIZE // 2) and np.all(np.isfinite(spectrum))
    drop = radial_power_spectrum(blurred(real)).mean(0) - spectrum.mean(0)
    # The high frequencies fall by 4x (to uint8 rounding's floor); the lowest hardly.
    assert drop[-4:].mean() < -0.3 and drop[0] > -0.15
    assert spectral_distance(real, real) == 0.0
    assert spectral_distance(real, blurred(real)) > 5 * spectral_distance(real, photo_crops(16, 1))


@pytest.mark.slow  # about 35 s: four small CNNs, 60 epochs each
def test_a_critic_tells_blurred_outputs_from_targets_but_not_targets_from_targets():
    real = photo_crops(96, 0)
    # Measured: 0.73 for the blur, 0.45 for other crops of the same photos.
    assert two_sample_accuracy(real, blurred(real)) > 0.65
    assert two_sample_accuracy(real, photo_crops(96, 1)) < 0.6


def test_bad_sets_are_refused_by_name():
    real = photo_crops(4, 0)
    with pytest.raises(ValueError, match="real must be uint8 RGB"):
        spectral_distance(real.astype("float32"), real)
    with pytest.raises(ValueError, match="at least 4 images"):
        two_sample_accuracy(real[:2], real[:2])


@pytest.mark.slow  # about 40 s: a critic per row
def test_the_comparison_table_shows_the_realism_columns():
    real = photo_crops(8, 0)
    pairs = [(real, real)]
    rows = score_rows({"input (identity)": None, "blur": lambda a: blurred(a)}, pairs,
                      realism=True)
    assert set(realism_scores(real, real)) == {"c2st", "spectral"} <= set(rows["blur"])
    table = comparison_table(rows)
    assert "real-vs-output accuracy (0.5 best)" in table and "spectral distance" in table
