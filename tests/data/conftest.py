"""Builders of small image folders for the data tests, made with PIL in tmp_path.

`messy_classes` is the corpus of everything real folders contain; EXPECTED
records what the data layer must do with each entry.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import types
import zlib

import numpy as np
import pytest
from PIL import Image

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def solid(size=(24, 16), colour=RED, mode="RGB") -> Image.Image:
    """A (width, height) image of one colour."""
    return Image.new(mode, size, colour)


def noise(size=(24, 16), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def save(image: Image.Image, path, **kwargs) -> str:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    image.save(path, **kwargs)
    return str(path)


def png_header(path, width: int, height: int) -> str:
    """A PNG of a few hundred bytes whose header claims width x height pixels."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return str(path)


def png16_rgb(path, pixels: np.ndarray) -> str:
    """A 48-bit RGB PNG (PIL cannot write one), pixels uint16 (h, w, 3)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)
    height, width, _ = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    raw = b"".join(b"\0" + row.astype(">u2").tobytes() for row in pixels)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return str(path)


def exif_rotated_jpeg(path) -> str:
    """Stored 40 wide x 20 high, left half red, right half blue, EXIF orientation 6
    (rotate 90 degrees clockwise to display): displayed 20 x 40, red on top."""
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return save(image, path, exif=exif.tobytes(), quality=95)


def truncated_jpeg(path) -> str:
    save(noise((64, 64), seed=7), path, quality=95)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    return str(path)


def rgba_png(path) -> str:
    """Row 0: transparent red; row 1: opaque blue; row 2: half-transparent black."""
    pixels = np.zeros((3, 4, 4), dtype=np.uint8)
    pixels[0] = (255, 0, 0, 0)
    pixels[1] = (0, 0, 255, 255)
    pixels[2] = (0, 0, 0, 128)
    return save(Image.fromarray(pixels, "RGBA"), path)


def palette_png(path) -> str:
    """Left half palette index 0 (transparent), right half index 1 (green)."""
    image = Image.new("P", (4, 2), 1)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(0, (0, 0, 2, 2))
    return save(image, path, transparency=0)


def gray16_png(path) -> str:
    """16-bit grayscale: 0, 32896 (128 * 257) and 65535 in three columns."""
    pixels = np.array([[0, 32896, 65535]] * 2, dtype=np.uint16)
    return save(Image.fromarray(pixels), path)


def tree_fingerprint(root) -> str:
    """Names, kinds, sizes, times, link targets and contents of a whole tree."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            info = os.lstat(path)
            digest.update(repr((os.path.relpath(path, root), info.st_mode, info.st_size,
                                info.st_mtime_ns)).encode("utf-8", "surrogateescape"))
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.readlink(path).encode("utf-8", "surrogateescape"))
            elif stat.S_ISREG(info.st_mode):
                digest.update(open(path, "rb").read())
    return digest.hexdigest()


# What must happen to each entry of `messy_classes`: kept, or the category
# of its skip in the report.
EXPECTED_KEPT = {
    "cats": ["good1.jpg", "good2.png", "cmyk.jpg", "gray.png", "gray16.png", "rgb16.png",
             "rgba.png", "palette.png", "exif_rotated.jpg", "tiny.png", "café_日本.jpg",
             "link_to_outside.jpg", "nested/deep.jpg", "no_extension", "bad\udcffname.jpg"],
    "dogs": ["d1.jpg", "d2.jpg", "d3.jpg"],
}
EXPECTED_SKIPPED = {
    "cats/notes.txt": "not an image",
    "cats/fake.jpg": "not an image",
    "cats/empty.jpg": "empty file",
    "cats/truncated.jpg": "truncated or corrupt image data",
    "cats/bomb.png": "decompression bomb",
    "cats/mild_bomb.png": "decompression bomb",
    "cats/.DS_Store": "hidden",
    "cats/.hidden.jpg": "hidden",
    "cats/broken_link.jpg": "broken symlink",
    "cats/loop": "symlink to folder",
    "dogs/pipe.jpg": "not a regular file",
    "fish/readme.md": "not an image",
    ".git": "hidden",
    "stray.jpg": "not in a class folder",
}
EXPECTED_NOTES = ["'birds'", "'fish'"]


@pytest.fixture
def draw():
    """The builders above. Under --import-mode=importlib tests cannot import
    conftest, so they get its helpers through this fixture."""
    return types.SimpleNamespace(
        solid=solid, noise=noise, save=save, png_header=png_header, png16_rgb=png16_rgb,
        exif_rotated_jpeg=exif_rotated_jpeg, truncated_jpeg=truncated_jpeg, rgba_png=rgba_png,
        palette_png=palette_png, gray16_png=gray16_png, tree_fingerprint=tree_fingerprint,
        RED=RED, GREEN=GREEN, BLUE=BLUE, EXPECTED_KEPT=EXPECTED_KEPT,
        EXPECTED_SKIPPED=EXPECTED_SKIPPED, EXPECTED_NOTES=EXPECTED_NOTES)


@pytest.fixture
def messy_classes(tmp_path):
    """A classification folder with every kind of bad input; returns its path."""
    root = tmp_path / "messy"
    cats, dogs = root / "cats", root / "dogs"
    save(noise(seed=1), cats / "good1.jpg")
    save(noise(seed=2), cats / "good2.png")
    save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), cats / "cmyk.jpg", quality=95)
    save(Image.new("L", (16, 16), 90), cats / "gray.png")
    gray16_png(cats / "gray16.png")
    png16_rgb(cats / "rgb16.png", np.full((4, 4, 3), 32896, dtype=np.uint16))
    rgba_png(cats / "rgba.png")
    palette_png(cats / "palette.png")
    exif_rotated_jpeg(cats / "exif_rotated.jpg")
    save(solid((1, 1), GREEN), cats / "tiny.png")
    save(noise(seed=3), cats / "café_日本.jpg")
    save(noise(seed=4), cats / "nested" / "deep.jpg")
    save(noise(seed=5), cats / "no_extension", format="JPEG")
    with open(os.open(os.fsencode(str(cats)) + b"/bad\xffname.jpg",
                      os.O_WRONLY | os.O_CREAT), "wb") as f:
        f.write(open(save(noise(seed=6), tmp_path / "tmp.jpg"), "rb").read())
    outside = save(noise(seed=8), tmp_path / "outside" / "real.jpg")
    os.symlink(outside, cats / "link_to_outside.jpg")
    os.symlink(tmp_path / "nowhere.jpg", cats / "broken_link.jpg")
    os.symlink(root, cats / "loop")
    (cats / "notes.txt").write_text("not an image")
    (cats / "fake.jpg").write_text("<html>this is a web page</html>")
    (cats / "empty.jpg").write_bytes(b"")
    truncated_jpeg(cats / "truncated.jpg")
    png_header(cats / "bomb.png", 100_000, 100_000)
    png_header(cats / "mild_bomb.png", 10_000, 10_000)
    (cats / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    save(noise(), cats / ".hidden.jpg")
    for i in range(1, 4):
        save(noise(seed=10 + i), dogs / f"d{i}.jpg")
    os.mkfifo(dogs / "pipe.jpg")
    (root / "birds").mkdir()
    save(noise(), root / ".git" / "x.jpg")
    (root / "fish").mkdir()
    (root / "fish" / "readme.md").write_text("# fish")
    save(noise(), root / "stray.jpg")
    return str(root)


@pytest.fixture
def class_folder(tmp_path):
    """Make a clean class folder: make(name, {class: count}, size) -> path."""
    def make(name="classes", counts=None, size=(24, 16)):
        root = tmp_path / name
        for c, (cls, n) in enumerate((counts or {"a": 6, "b": 4}).items()):
            for i in range(n):
                save(noise(size, seed=100 * c + i), root / cls / f"{i}.jpg", quality=95)
        return str(root)
    return make
