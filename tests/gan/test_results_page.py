"""The sample grid and the self-contained HTML results page."""

import base64
import io
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from zoo.gan.results_page import sample_grid, write_results_page


def _batch(value, count=3, height=5, width=7):
    return np.full((count, height, width, 3), value, np.uint8)


def test_grid_shape_and_placement():
    inputs, outputs, targets = _batch(10), _batch(20), _batch(30)
    grid = sample_grid([inputs, outputs, targets], pad=2)
    assert grid.dtype == np.uint8
    assert grid.shape == (3 * 5 + 4 * 2, 3 * 7 + 4 * 2, 3)
    # Row 2 (third example), column 1 (the output) starts after the padding.
    top, left = 2 + 2 * (5 + 2), 2 + 1 * (7 + 2)
    assert np.all(grid[top:top + 5, left:left + 7] == 20)
    assert np.all(grid[:2] == 255) and np.all(grid[:, :2] == 255)
    assert sample_grid([inputs], pad=0).shape == (15, 7, 3)


def test_grid_rejects_mismatched_or_float_columns():
    with pytest.raises(ValueError, match="same shape"):
        sample_grid([_batch(0), _batch(0, count=2)])
    with pytest.raises(ValueError, match=r"columns\[1\] must be uint8"):
        sample_grid([_batch(0), _batch(0).astype("float32")])
    with pytest.raises(ValueError, match="at least one column"):
        sample_grid([])


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.captions, self.title, self.pre = [], [], "", ""
        self._in = None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "figcaption":
            self.captions.append(data)
        elif self._in == "h1":
            self.title += data
        elif self._in == "pre":
            self.pre += data


def test_results_page(tmp_path):
    rng = np.random.default_rng(0)
    rows = [[rng.integers(0, 256, (6, 4, 3), dtype=np.uint8) for _ in range(3)]
            for _ in range(4)]
    path = tmp_path / "out" / "results.html"
    title = "pix2pix <facades> & more"
    table = "model  L1\n-----  ----\na<b>   0.1"
    assert write_results_page(path, title, ["input", "output", "target"], rows,
                              scores_table=table) == path
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    assert page.title == title  # escaped in the file, read back as written
    assert page.pre == table
    assert len(page.images) == 12
    assert page.captions == ["input", "output", "target"] * 4
    # Every image is embedded, and decodes back to its pixels.
    first = page.images[0]["src"]
    assert first.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(first.split(",", 1)[1]))))
    np.testing.assert_array_equal(decoded, rows[0][0])
    assert page.images[5]["alt"] == "target, example 2"
    assert [p.name for p in path.parent.iterdir()] == ["results.html"]  # no staging left


def test_results_page_checks_rows(tmp_path):
    image = np.zeros((4, 4, 3), np.uint8)
    path = tmp_path / "results.html"
    with pytest.raises(ValueError, match="one image per column"):
        write_results_page(path, "t", ["input", "output"], [[image]])
    with pytest.raises(ValueError, match="uint8 RGB image"):
        write_results_page(path, "t", ["input"], [[image.astype("float32")]])
    assert not path.exists()
