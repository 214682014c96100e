"""Where the tiles of a large image go, and how their outputs are blended.

Pure NumPy: `zoo.gan.inference` runs the tiles through a generator; this
module only plans them and weighs them.

Tiles are placed on the padded image (a multiple of the generator's
down-sampling factor), so a tile size that is a multiple of the factor and
an overlap that is one too put every tile on the same stride grid as the
whole image: where a pixel's receptive field lies inside a tile, the tile
computes exactly what the whole image would.

Each tile's weight is ~0 on the outer quarter of the overlap at every edge
it shares with a neighbour (those pixels lack context), rises with a raised
cosine across the middle half, and stays 1 at the image's own borders. The
blended output is the weighted mean, so it changes continuously from one
tile to the next: no seams. Where a generator's receptive-field radius is at
most `overlap // 4`, tiled and untiled outputs agree.
"""

from __future__ import annotations

import numpy as np

MIN_WEIGHT = 1e-6


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of the tiles covering one axis, first 0, last `length - tile`.

    Args:
        length: the axis to cover.
        tile: the tile's length along it.
        overlap: how far neighbouring tiles overlap at least.

    Returns:
        The starts, increasing; one tile of start 0 when the axis fits in one.
    """
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be at least 0 and less than the tile size {tile}. "
                         f"Received: overlap={overlap}")
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    # The last tile ends at the border; it may overlap its neighbour by more.
    return starts + [length - tile]


def edge_ramp(size: int, overlap: int, rises: bool, falls: bool) -> np.ndarray:
    """One tile's weights along one axis.

    At an edge shared with a neighbour the first `overlap // 4` pixels get
    (almost) no weight: they lack the context beyond the tile. A raised
    cosine then rises to 1 over the middle of the overlap; the neighbour's
    weight falls over the same pixels (the two add up to 1 there), so the
    blend has no seam and skips both tiles' blind margins.

    Args:
        size: the tile's length.
        overlap: the overlap with each neighbour.
        rises: a neighbour lies before the tile.
        falls: a neighbour lies after it.

    Returns:
        float64 weights in (0, 1], shape (size,).
    """
    margin = overlap // 4
    ramp_length = overlap - 2 * margin
    # Pixel centres, so the ramp never reaches exactly 0 or 1.
    centres = (np.arange(ramp_length) + 0.5) / max(ramp_length, 1)
    rising = np.concatenate([np.zeros(margin), 0.5 - 0.5 * np.cos(np.pi * centres)])[:size]
    weights = np.ones(size)
    if rises:
        weights[:len(rising)] = np.minimum(weights[:len(rising)], rising)
    if falls:
        weights[size - len(rising):] = np.minimum(weights[size - len(rising):], rising[::-1])
    # Never exactly 0: every pixel keeps a (negligible) weight from each tile.
    return np.maximum(weights, MIN_WEIGHT)


def plan_tiles(height: int, width: int, tile: int, overlap: int):
    """Every tile of an image and its 2-D weights.

    Args:
        height, width: the (padded) image's size.
        tile: the tile side.
        overlap: the minimum overlap of neighbouring tiles.

    Returns:
        A list of ((top, left, tile_height, tile_width), weights) with
        weights of shape (tile_height, tile_width); a tile is smaller than
        `tile` along an axis shorter than `tile`.
    """
    tiles = []
    rows = tile_starts(height, tile, overlap)
    columns = tile_starts(width, tile, overlap)
    tile_height, tile_width = min(tile, height), min(tile, width)
    for row_index, top in enumerate(rows):
        row_weights = edge_ramp(tile_height, overlap, row_index > 0, row_index < len(rows) - 1)
        for column_index, left in enumerate(columns):
            column_weights = edge_ramp(tile_width, overlap, column_index > 0,
                                       column_index < len(columns) - 1)
            tiles.append(((top, left, tile_height, tile_width),
                          np.outer(row_weights, column_weights)))
    return tiles


def blend_tiles(outputs, tiles, height: int, width: int) -> np.ndarray:
    """The weighted mean of the tiles' outputs.

    Args:
        outputs: one array (tile_height, tile_width, channels) per tile.
        tiles: what `plan_tiles` returned, in the same order.
        height, width: the image's size.

    Returns:
        float32 array (height, width, channels).
    """
    channels = outputs[0].shape[-1]
    total = np.zeros((height, width, channels))
    weight_sum = np.zeros((height, width, 1))
    for output, ((top, left, tile_height, tile_width), weights) in zip(outputs, tiles):
        window = (slice(top, top + tile_height), slice(left, left + tile_width))
        total[window] += output * weights[..., None]
        weight_sum[window] += weights[..., None]
    return (total / weight_sum).astype(np.float32)
