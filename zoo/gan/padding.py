"""Reflection padding made of built-in Keras layers only.

The CycleGAN ResNet generator pads by reflection (PyTorch's
`ReflectionPad2d`, NumPy's `np.pad(mode="reflect")`: the border pixel is not
repeated, so [a, b, c, d] padded by 2 is [c, b, a, b, c, d, c, b]). Keras has
no such layer, and a `Lambda` or custom layer would stop a saved generator
from loading with `safe_mode=True` or without zoo. So it is assembled from
layers whose sizes are all static even when the image size is not. One row
is added on each side at a time; for a tensor y of n rows that is already
padded by k:

1. the new first row is y[2k + 1] and the new last row y[n - 2k - 2] (the
   rows that mirror them): `Cropping2D` + `ZeroPadding2D` move one copy of
   y so that y[2k + 1] lands on row 0 and another so that y[n - 2k - 2]
   lands on row n + 1 (zeros fill the rest), and `Add` sums the copies;
2. `Subtract` removes everything but the first and last rows of that sum
   (the sum minus itself with those two rows cropped off and zero-padded
   back: x - x is exactly 0, x - 0 exactly x);
3. `Add` puts those two rows around y zero-padded by one row.

Then the same along the width, on the padded rows, so the corners are
reflected twice, as np.pad does. Every step is exact (no arithmetic beyond
adding zeros), differentiable, and works for any height and width larger
than `pad`.

That takes ten full-size copies per row and side, which doubles the time of
a CycleGAN train step on a CPU. When the size is known (`size=`), each
mirrored row is cropped out by itself and `Concatenate` joins them: one
copy. Either way it is a small functional model, nested in the generator as
one layer; nothing in it has weights.
"""

from __future__ import annotations

import keras

HEIGHT, WIDTH = 0, 1


def _pair(axis: int, before: int, after: int):
    """A (rows, columns) argument of ZeroPadding2D/Cropping2D along one axis."""
    return ((before, after), (0, 0)) if axis == HEIGHT else ((0, 0), (before, after))


def _moved(y, mirror: int, to_first: bool, axis: int, name: str):
    """A copy of y (n rows) grown to n + 2 rows, zeros filling, in which row
    `mirror` lands on the first row (to_first) or row n - 1 - mirror on the
    last."""
    if to_first:
        cut, fill = _pair(axis, mirror, 0), _pair(axis, 0, mirror + 2)
    else:
        cut, fill = _pair(axis, 0, mirror), _pair(axis, mirror + 2, 0)
    y = keras.layers.Cropping2D(cut, name=f"{name}_crop")(y)
    return keras.layers.ZeroPadding2D(fill, name=f"{name}_pad")(y)


def _reflect_one_row(y, done: int, axis: int, name: str):
    """y, already padded by `done` rows on each side, padded by one more."""
    mirror = 2 * done + 1  # the new border rows mirror the rows this far in
    first = _moved(y, mirror, True, axis, f"{name}_first")
    last = _moved(y, mirror, False, axis, f"{name}_last")
    both = keras.layers.Add(name=f"{name}_both")([first, last])
    inner = keras.layers.Cropping2D(_pair(axis, 1, 1), name=f"{name}_inner_crop")(both)
    inner = keras.layers.ZeroPadding2D(_pair(axis, 1, 1), name=f"{name}_inner_pad")(inner)
    border = keras.layers.Subtract(name=f"{name}_border")([both, inner])
    padded = keras.layers.ZeroPadding2D(_pair(axis, 1, 1), name=f"{name}_zeros")(y)
    return keras.layers.Add(name=f"{name}_fill")([padded, border])


def _reflect_axis(x, pad: int, axis: int, name: str):
    for done in range(pad):
        x = _reflect_one_row(x, done, axis, f"{name}{done + 1}")
    return x


def _reflect_axis_static(x, pad: int, axis: int, name: str):
    """The same for a known size: each mirrored row is cropped out by itself."""
    length = x.shape[1 + axis]

    def row(index, side):
        return keras.layers.Cropping2D(_pair(axis, index, length - 1 - index),
                                       name=f"{name}_{side}{index}")(x)

    first = [row(index, "start") for index in range(pad, 0, -1)]
    last = [row(index, "end") for index in range(length - 2, length - 2 - pad, -1)]
    return keras.layers.Concatenate(axis=1 + axis, name=f"{name}_joined")([*first, x, *last])


def reflection_padding(pad: int, channels: int | None = None, size=None,
                       name: str = "reflection_pad") -> keras.Model:
    """A layer (a nested functional model) that pads height and width by reflection.

    Args:
        pad: rows and columns added on each side; the input must be larger
            than `pad` in both directions.
        channels: the input's channels, or None for any.
        size: None for any (height, width), or the one (height, width) the
            layer will take (faster).
        name: the layer's name.

    Returns:
        A `keras.Model` of built-in layers, (N, H, W, C) -> (N, H + 2 pad,
        W + 2 pad, C), equal to `np.pad(x, [(0, 0), (pad, pad), (pad, pad),
        (0, 0)], mode="reflect")`.
    """
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 1:
        raise ValueError(f"pad must be a positive integer. Received: pad={pad!r}")
    height, width = size or (None, None)
    if size is not None and min(size) <= pad:
        raise ValueError(f"Reflection padding by {pad} needs images larger than {pad} "
                         f"pixels. Received: size={size}")
    inputs = keras.Input((height, width, channels), name=f"{name}_input")
    reflect = _reflect_axis if size is None else _reflect_axis_static
    x = reflect(inputs, pad, HEIGHT, "rows")
    x = reflect(x, pad, WIDTH, "cols")
    return keras.Model(inputs, x, name=name)
