"""Small image-class folders that no zoo loader ships, made from pictures in
the dependencies or drawn here, to measure zoo on data it has never seen.

Each maker writes FOLDER/train/<class>/*.png and FOLDER/test/<class>/*.png,
the layout `zoo run classify --data FOLDER` reads, and returns FOLDER:

    textures  10 classes x 24 (train) + 24 (test), 32 px: crops of ten
              scikit-image photos (brick, grass, gravel...); the training
              crops come from each photo's left half, the test crops from its
              right half, so no test pixel was seen in training
    shapes    6 classes x 40 + 40, 32 px: a circle, square, triangle, cross,
              ring or bar of random size, place, angle and colour, on noise
    glyphs    10 classes x 30 + 30, 32 px: the letters A-J in Pillow's
              default font at random sizes and places, ink and paper colours

Paired folders for Pix2Pix, FOLDER/{train,test}/{A,B}/*.png, 64 px crops of
photos no embedded set uses (scikit-image's brick, grass, gravel, camera,
coins, moon, page, text, hubble_deep_field and retina; training crops from
each photo's left half, test crops from its right half):

    deblur    A: B blurred (Gaussian, radius 1.5); 200 training + 50 test pairs
    denoise   A: B with Gaussian noise (sigma 25 of 255); the same crops

    python benchmarks/folders.py OUT    # writes every folder above into OUT
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 32
TEXTURE_PHOTOS = ("brick", "grass", "gravel", "camera", "coins", "moon", "page", "text",
                  "coffee", "rocket")
PAIR_PHOTOS = ("brick", "grass", "gravel", "camera", "coins", "moon", "page", "text",
               "hubble_deep_field", "retina")
PAIR_SIZE = 64
SHAPES = ("circle", "square", "triangle", "cross", "ring", "bar")
GLYPHS = "ABCDEFGHIJ"


def _save(folder: Path, split: str, label: str, images) -> None:
    target = folder / split / label
    target.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        Image.fromarray(image).save(target / f"{index:03d}.png")


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return image[..., :3].astype(np.uint8)


def textures(out: Path, per_split: int = 24, seed: int = 0) -> Path:
    """Crops of ten scikit-image photos: which photo is a crop from?"""
    from skimage import data

    rng = np.random.default_rng(seed)
    folder = out / "textures"
    for name in TEXTURE_PHOTOS:
        photo = _rgb(getattr(data, name)())
        height, width = photo.shape[:2]
        for split, (low, high) in (("train", (0, width // 2)), ("test", (width // 2, width))):
            crops = []
            for _ in range(per_split):
                side = int(rng.integers(48, 97))  # then shrunk to 32 px: several scales
                top = int(rng.integers(0, height - side))
                left = int(rng.integers(low, high - side))
                crop = Image.fromarray(photo[top:top + side, left:left + side])
                crops.append(np.asarray(crop.resize((SIZE, SIZE), Image.BILINEAR)))
            _save(folder, split, name, crops)
    return folder


def _shape(kind: str, rng) -> np.ndarray:
    scale = 4  # drawn 4x larger, then shrunk: smooth edges
    side = SIZE * scale
    background = rng.integers(0, 256, 3)
    noise = rng.normal(0, 20, (side, side, 3))
    image = Image.fromarray(np.clip(background + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    colour = tuple(int(c) for c in (background + rng.integers(80, 176, 3)) % 256)
    radius = rng.uniform(0.22, 0.4) * side
    cx, cy = rng.uniform(radius, side - radius, 2)
    angle = rng.uniform(0, 2 * math.pi)

    def polygon(corners, stretch=(1.0, 1.0)):
        points = []
        for k in range(corners):
            t = angle + 2 * math.pi * k / corners
            points.append((cx + radius * stretch[0] * math.cos(t),
                           cy + radius * stretch[1] * math.sin(t)))
        return points

    width = int(radius * 0.35)
    if kind == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
    elif kind == "ring":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=colour,
                     width=width)
    elif kind == "square":
        draw.polygon(polygon(4), fill=colour)
    elif kind == "triangle":
        draw.polygon(polygon(3), fill=colour)
    elif kind in ("cross", "bar"):
        for turn in ((0.0, math.pi / 2) if kind == "cross" else (0.0,)):
            dx, dy = radius * math.cos(angle + turn), radius * math.sin(angle + turn)
            draw.line([cx - dx, cy - dy, cx + dx, cy + dy], fill=colour, width=width)
    return np.asarray(image.resize((SIZE, SIZE), Image.LANCZOS))


def _drawn(folder: Path, labels, draw, per_split: int, seed: int) -> Path:
    """`per_split` images of each label, drawn by `draw(label, rng)`, per split."""
    rng = np.random.default_rng(seed)
    for label in labels:
        for split in ("train", "test"):
            _save(folder, split, label, [draw(label, rng) for _ in range(per_split)])
    return folder


def shapes(out: Path, per_split: int = 40, seed: int = 0) -> Path:
    """Six drawn shapes of random size, place, angle and colour, on noise."""
    return _drawn(out / "shapes", SHAPES, _shape, per_split, seed)


def _glyph(letter: str, rng) -> np.ndarray:
    paper = rng.integers(0, 256, 3)
    ink = (paper + rng.integers(96, 161, 3)) % 256
    image = Image.new("RGB", (SIZE, SIZE), tuple(int(c) for c in paper))
    font = ImageFont.load_default(size=int(rng.integers(14, 27)))
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), letter, font=font)
    x = rng.uniform(-left, max(-left, SIZE - right) + 1e-6)
    y = rng.uniform(-top, max(-top, SIZE - bottom) + 1e-6)
    draw.text((x, y), letter, fill=tuple(int(c) for c in ink), font=font)
    return np.asarray(image)


def glyphs(out: Path, per_split: int = 30, seed: int = 0) -> Path:
    """The letters A-J at random sizes and places, in random ink on random paper."""
    return _drawn(out / "glyphs", GLYPHS, _glyph, per_split, seed)


def _photo_crops(split: str, count: int, rng) -> list[np.ndarray]:
    """`count` PAIR_SIZE crops spread over PAIR_PHOTOS, from the left halves
    for "train" and the right halves for "test"."""
    from skimage import data

    crops = []
    for index in range(count):
        photo = _rgb(getattr(data, PAIR_PHOTOS[index % len(PAIR_PHOTOS)])())
        height, width = photo.shape[:2]
        low, high = (0, width // 2) if split == "train" else (width // 2, width)
        top = int(rng.integers(0, height - PAIR_SIZE))
        left = int(rng.integers(low, high - PAIR_SIZE))
        crops.append(photo[top:top + PAIR_SIZE, left:left + PAIR_SIZE])
    return crops


def _pairs(out: Path, name: str, degrade, counts=(("train", 200), ("test", 50)),
           seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder = out / name
    for split, count in counts:
        targets = _photo_crops(split, count, rng)
        _save(folder, split, "B", targets)
        _save(folder, split, "A", [degrade(image, rng) for image in targets])
    return folder


def deblur(out: Path) -> Path:
    """Blurred crops (A) to sharp ones (B)."""
    def blur(image, rng):
        return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.5)))

    return _pairs(out, "deblur", blur)


def denoise(out: Path) -> Path:
    """Noisy crops (A) to clean ones (B)."""
    def noisy(image, rng):
        return np.clip(image + rng.normal(0, 25, image.shape), 0, 255).astype(np.uint8)

    return _pairs(out, "denoise", noisy)


MAKERS = {"textures": textures, "shapes": shapes, "glyphs": glyphs}
PAIRED_MAKERS = {"deblur": deblur, "denoise": denoise}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where the folders go")
    args = parser.parse_args(argv)
    for name, make in {**MAKERS, **PAIRED_MAKERS}.items():
        print(f"{name}: {make(args.out)}")


if __name__ == "__main__":
    main()
