"""Tile placement and blending weights (NumPy only, no model)."""

import numpy as np
import pytest

from zoo.gan.tiling import MIN_WEIGHT, blend_tiles, edge_ramp, plan_tiles, tile_starts


# Compares floats from TensorFlow's kernels: CI runs it with oneDNN flipped too.
pytestmark = pytest.mark.numerics


@pytest.mark.parametrize("length, tile, overlap", [(304, 96, 72), (440, 64, 16), (64, 64, 16),
                                                   (65, 64, 0), (40, 64, 16)])
def test_tiles_cover_the_axis_and_overlap_at_least_as_asked(length, tile, overlap):
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0
    assert starts[-1] + min(tile, length) == length
    assert all(b > a for a, b in zip(starts, starts[1:]))
    assert all(a + tile - b >= overlap for a, b in zip(starts, starts[1:]))


def test_overlap_must_be_smaller_than_the_tile():
    with pytest.raises(ValueError, match="overlap"):
        tile_starts(300, 64, 64)


def test_neighbours_weights_add_up_to_one_across_the_overlap():
    tile, overlap = 64, 32
    left = edge_ramp(tile, overlap, rises=False, falls=True)
    right = edge_ramp(tile, overlap, rises=True, falls=False)
    shared = left[tile - overlap:] + right[:overlap]
    margin = overlap // 4
    np.testing.assert_allclose(shared, 1.0, atol=2 * MIN_WEIGHT)
    # The blind margins at the cut edges get (almost) nothing...
    assert right[:margin].max() <= MIN_WEIGHT and left[-margin:].max() <= MIN_WEIGHT
    # ...the image's own borders keep full weight, and nothing is exactly 0.
    assert left[0] == 1 and right[-1] == 1
    assert min(left.min(), right.min()) > 0
    # Smooth: no jump bigger than the ramp's steepest step.
    assert np.abs(np.diff(right)).max() < 0.1


def test_blending_tiles_cut_from_an_image_gives_the_image_back():
    image = np.random.default_rng(0).uniform(0, 255, (100, 150, 3)).astype(np.float32)
    tiles = plan_tiles(100, 150, 48, 16)
    assert len(tiles) > 4
    outputs = [image[top:top + rows, left:left + columns]
               for (top, left, rows, columns), _ in tiles]
    np.testing.assert_allclose(blend_tiles(outputs, tiles, 100, 150), image, rtol=1e-5)
