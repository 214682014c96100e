"""One file at a time: every decodable oddity becomes plain 8-bit RGB, every
unusable file raises UnusableImage with its reason."""

import numpy as np
import pytest
from PIL import Image

from zoo.data.images import UnusableImage, decode_resized, load_rgb, probe_size


def pixels(path):
    image = load_rgb(str(path))
    assert image.mode == "RGB"
    return np.asarray(image)


def test_cmyk_jpeg_becomes_rgb(tmp_path, draw):
    path = draw.save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), tmp_path / "c.jpg",
                     quality=95)
    red, green, blue = pixels(path)[8, 8].astype(int)
    assert red > 200 and green < 60 and blue < 60


def test_gray_and_bilevel_become_rgb(tmp_path, draw):
    gray = pixels(draw.save(Image.new("L", (4, 4), 90), tmp_path / "g.png"))
    assert gray.shape == (4, 4, 3) and (gray == 90).all()
    bilevel = pixels(draw.save(Image.new("1", (4, 4), 1), tmp_path / "b.png"))
    assert (bilevel == 255).all()


def test_16_bit_gray_is_scaled_not_clipped(tmp_path, draw):
    row = pixels(draw.gray16_png(tmp_path / "g16.png"))[0, :, 0]
    assert row.tolist() == [0, 128, 255]


def test_16_bit_rgb_is_scaled_not_clipped(tmp_path, draw):
    values = np.array([[[0, 32896, 65535]]], dtype=np.uint16)
    assert pixels(draw.png16_rgb(tmp_path / "rgb16.png", values))[0, 0].tolist() == [0, 128, 255]


def test_rgba_is_composited_over_white(tmp_path, draw):
    image = pixels(draw.rgba_png(tmp_path / "a.png"))
    assert image[0, 0].tolist() == [255, 255, 255]  # transparent red
    assert image[1, 0].tolist() == [0, 0, 255]  # opaque blue
    assert all(abs(int(v) - 127) <= 1 for v in image[2, 0])  # half-transparent black


def test_palette_transparency_is_composited_over_white(tmp_path, draw):
    image = pixels(draw.palette_png(tmp_path / "p.png"))
    assert image[0, 0].tolist() == [255, 255, 255]
    assert image[0, 3].tolist() == [0, 255, 0]


def test_exif_orientation_is_applied(tmp_path, draw):
    path = draw.exif_rotated_jpeg(tmp_path / "r.jpg")
    assert probe_size(path) == (20, 40)
    image = pixels(path).astype(int)
    assert image.shape == (40, 20, 3)
    assert image[5, 10, 0] > 200 and image[5, 10, 2] < 60  # red on top
    assert image[35, 10, 2] > 200 and image[35, 10, 0] < 60  # blue below


def test_tiny_image_is_kept_and_resized(tmp_path, draw):
    path = draw.save(draw.solid((1, 1), draw.GREEN), tmp_path / "t.png")
    out = decode_resized(path, (8, 6))
    assert out.shape == (8, 6, 3) and out.dtype == np.uint8 and (out == [0, 255, 0]).all()


def test_large_jpeg_draft_decoding_keeps_the_requested_size(tmp_path, draw):
    path = draw.save(draw.noise((800, 600)), tmp_path / "big.jpg")
    assert decode_resized(path, (64, 48)).shape == (64, 48, 3)


@pytest.mark.parametrize("name, content, reason", [
    ("empty.jpg", b"", r"empty file \(0 bytes\)"),
    ("notes.txt", b"hello", "not an image"),
    ("fake.jpg", b"<html></html>", "not an image"),
])
def test_unusable_files_raise_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnusableImage, match=reason):
        probe_size(str(path))


def test_truncated_jpeg_passes_the_header_but_not_decoding(tmp_path, draw):
    path = draw.truncated_jpeg(tmp_path / "t.jpg")
    assert probe_size(path) == (64, 64)
    with pytest.raises(UnusableImage, match="truncated or corrupt") as info:
        load_rgb(path)
    assert info.value.path == path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [100_000, 10_000])
def test_decompression_bombs_are_refused_from_the_header(tmp_path, draw, side):
    # 100,000^2 is over twice PIL's limit (PIL raises), 10,000^2 just over it
    # (PIL only warns): both are refused before any pixel is allocated.
    path = draw.png_header(tmp_path / "bomb.png", side, side)
    with pytest.raises(UnusableImage, match="decompression bomb"):
        probe_size(path)
    with pytest.raises(UnusableImage, match="decompression bomb"):
        load_rgb(path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_bomb_limit_follows_pil(tmp_path, draw, monkeypatch):
    path = draw.save(draw.noise((200, 100)), tmp_path / "n.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(UnusableImage, match="20,000 pixels"):
        probe_size(path)


def test_unreadable_file(tmp_path, draw):
    path = draw.save(draw.noise(), tmp_path / "secret.jpg")
    import os
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip(reason="running as a user who can read anything (root)")
        with pytest.raises(UnusableImage, match="cannot read"):
            probe_size(path)
    finally:
        os.chmod(path, 0o644)
