"""What a person looks at after training: a grid image and a one-file HTML page.

    >>> grid = sample_grid([inputs, outputs, targets])   # one row per example
    >>> mlflow.log_image(grid, "samples/epoch_010.png")
    >>> write_results_page("results.html", "pix2pix on facades",
    ...                    ["input", "output", "target"],
    ...                    [[a, o, t] for a, o, t in zip(inputs, outputs, targets)],
    ...                    scores_table=comparison_table(scores))

The page embeds its images as base64 PNG, so the single file can be mailed,
logged as an MLflow artifact or opened from anywhere.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
from PIL import Image

from zoo.files import atomic_write_text
from zoo.gan.uint8 import check_uint8_batch

# Small images (CIFAR-sized) are shown enlarged, with sharp pixels.
MIN_DISPLAY_WIDTH_PX = 128

_STYLE = f"""
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
pre {{ background: #f4f4f4; padding: 1em; overflow-x: auto; }}
.example {{ display: flex; gap: 1em; margin-bottom: 1.5em; align-items: flex-start; }}
figure {{ margin: 0; text-align: center; }}
figcaption {{ font-size: 0.9em; color: #555; }}
img {{ min-width: {MIN_DISPLAY_WIDTH_PX}px; height: auto; image-rendering: pixelated; }}
"""


def sample_grid(columns, pad: int = 2, background: int = 255) -> np.ndarray:
    """One uint8 image: a row per example, a column per kind (input | output | target).

    Args:
        columns: uint8 batches (N, H, W, 3), one per column, all the same shape.
        pad: pixels of `background` between and around the images.
        background: the gray level (0..255) of the padding.

    Returns:
        uint8 (N*H + (N+1)*pad, K*W + (K+1)*pad, 3), ready for `mlflow.log_image`.
    """
    if not columns:
        raise ValueError("sample_grid needs at least one column of images. Received: columns=[]")
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer. Received: pad={pad!r}")
    if not 0 <= int(background) <= 255:
        raise ValueError(f"background must be a gray level in 0..255. Received: "
                         f"background={background!r}")
    batches = [check_uint8_batch(batch, f"columns[{k}]") for k, batch in enumerate(columns)]
    shapes = {batch.shape for batch in batches}
    if len(shapes) != 1:
        raise ValueError(f"Every column of sample_grid must have the same shape (N, H, W, 3). "
                         f"Received: {[batch.shape for batch in batches]}")
    count, height, width, _ = batches[0].shape
    grid = np.full((count * height + (count + 1) * pad, len(batches) * width
                    + (len(batches) + 1) * pad, 3), background, dtype=np.uint8)
    for row in range(count):
        top = pad + row * (height + pad)
        for column, batch in enumerate(batches):
            left = pad + column * (width + pad)
            grid[top:top + height, left:left + width] = batch[row]
    return grid


def write_results_page(path, title: str, columns: list[str], rows, scores_table: str | None = None):
    """Write one self-contained HTML page of examples side by side, atomically.

    Args:
        path: the .html file to create or replace.
        title: the page heading.
        columns: a caption per column, e.g. `["input", "output", "target"]`.
        rows: one list per example of uint8 images (H, W, 3), one per column.
        scores_table: optional text (e.g. `comparison_table(...)`) shown
            above the examples in a monospace block.

    Returns:
        The path written.
    """
    columns = [str(name) for name in columns]
    if not columns:
        raise ValueError("columns must name at least one column, e.g. ['input', 'output'].")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if scores_table:
        parts.append(f"<pre>{html.escape(scores_table)}</pre>")
    for index, row in enumerate(rows):
        row = list(row)
        if len(row) != len(columns):
            raise ValueError(f"Each row needs one image per column ({len(columns)}: "
                             f"{columns}). Received: row {index} with {len(row)} images")
        parts.append(f'<div class="example" id="example-{index + 1}">')
        for name, image in zip(columns, row):
            image = _check_image(image, f"rows[{index}] image for {name!r}")
            alt = html.escape(f"{name}, example {index + 1}", quote=True)
            parts.append(f'<figure><img src="data:image/png;base64,{_png_base64(image)}" '
                         f'alt="{alt}" width="{image.shape[1]}" height="{image.shape[0]}">'
                         f"<figcaption>{html.escape(name)}</figcaption></figure>")
        parts.append("</div>")
    parts.append("</body></html>")
    atomic_write_text(path, "\n".join(parts) + "\n")
    return path


def paired_rows(pairs, translate, count: int) -> list:
    """[input, output, target] for the first `count` of batched (A, B) pairs."""
    for a, b in pairs.unbatch().batch(count).take(1).as_numpy_iterator():
        outputs = translate(a)
        return [[a[i], outputs[i], b[i]] for i in range(len(a))]
    return []


def _png_base64(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _check_image(image, name) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{name} must be a uint8 RGB image shaped (H, W, 3). Received: "
                         f"dtype {image.dtype}, shape {image.shape}")
    return image
