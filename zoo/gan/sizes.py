"""Image sides the GAN networks accept, worked out without TensorFlow, so that
a recipe checks its arguments before TensorFlow loads."""

from __future__ import annotations


def smallest_input(n_layers: int = 3) -> int:
    """The smallest image side that still gives the PatchGAN a 1x1 map of
    logits (24 for n_layers=3): each stride-2 conv halves the side, each
    stride-1 one takes a pixel off."""
    side = 1
    for stride in [1, 1] + [2] * n_layers:
        side = (side + 1) if stride == 1 else 2 * side
    return side
