"""Open one image file safely and turn it into 8-bit RGB pixels.

Everything that can go wrong with a single file is decided here, once, so that
folders of classes, pairs and domains all treat bad files the same way:

* not an image, zero bytes, unreadable, truncated or corrupt data: the file is
  unusable; `UnusableImage` carries the reason and the caller skips the file.
* decompression bombs: any image with more pixels than
  `PIL.Image.MAX_IMAGE_PIXELS` (about 89 million by default; raise it there if
  you really have such photos) is unusable. The size comes from the header, so
  the pixels are never allocated.
* EXIF orientation is applied (`ImageOps.exif_transpose`), so a photo looks
  the way a viewer shows it. A broken EXIF block leaves the pixels as stored.
* Grayscale, palette, CMYK and YCbCr become RGB through PIL's conversions.
* 16-bit images are scaled to 8 bits (value * 255 / 65535, rounded), never
  clipped. (PIL already reduces 16-bit RGB PNGs to their high byte.)
* Transparency (RGBA, LA, palette or single-colour transparency) is
  composited over white, the background an image viewer shows.
* Animated or multi-page files: the first frame.
* Tiny images (even 1x1) are kept and resized like any other.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALPHA_BACKGROUND = (255, 255, 255)

# Modes holding more than 8 bits per sample, read as unsigned 16-bit values.
_HIGH_BIT_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_EXIF_ORIENTATION_TAG = 0x0112
_ORIENTATIONS_SWAPPING_SIDES = (5, 6, 7, 8)


class UnusableImage(Exception):
    """A file that cannot be used as an image; the message is the reason.

    Args:
        reason: why, for a person.
        path: the file, when the raiser knows it (pairs name the bad half).
    """

    def __init__(self, reason: str, path: str | None = None):
        super().__init__(reason)
        self.path = path


def probe_size(path: str) -> tuple[int, int]:
    """Read only the header and return the displayed size.

    Args:
        path: the file to look at.

    Returns:
        (width, height) after EXIF orientation is applied.

    Raises:
        UnusableImage: the file is empty, unreadable, not an image or a
            decompression bomb.
    """
    with _open(path) as image:
        width, height = image.size
        if _orientation(image) in _ORIENTATIONS_SWAPPING_SIDES:
            width, height = height, width
    return width, height


def load_rgb(path: str, draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode a file completely and normalise it to an RGB PIL image.

    Args:
        path: the image file.
        draft_size: (width, height) the caller will shrink the image to. JPEGs
            then decode at a reduced scale that is still at least this big,
            which is several times faster for large photos.

    Returns:
        An RGB image with EXIF orientation applied.

    Raises:
        UnusableImage: the file cannot be used; the message says why.
    """
    try:
        return _load_rgb(path, draft_size)
    except UnusableImage as exc:
        exc.path = path
        raise


def _load_rgb(path: str, draft_size: tuple[int, int] | None) -> Image.Image:
    with _open(path) as image:
        if draft_size is not None and image.format == "JPEG":
            # Orientation may swap the sides, so ask for the longer side both ways.
            side = max(draft_size)
            image.draft(image.mode, (side, side))
        try:
            image.load()
        except Image.DecompressionBombError as exc:
            raise UnusableImage(f"decompression bomb: {exc}") from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise UnusableImage(f"truncated or corrupt image data ({exc})") from None
        image = _apply_orientation(image)
        try:
            return _to_rgb(image)
        except (ValueError, OSError) as exc:
            raise UnusableImage(f"unsupported pixel format {image.mode!r} ({exc})") from None


def resize_array(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Resize to (height, width) with antialiased bilinear filtering.

    Args:
        image: an RGB PIL image.
        size: (height, width) of the result.

    Returns:
        A uint8 array of shape (height, width, 3).
    """
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def decode_resized(path: str, size: tuple[int, int]) -> np.ndarray:
    """Decode, normalise and resize one file: `load_rgb` then `resize_array`.

    Args:
        path: the image file.
        size: (height, width) of the result.

    Returns:
        A uint8 array of shape (height, width, 3).
    """
    return resize_array(load_rgb(path, draft_size=(size[1], size[0])), size)


def _open(path: str) -> Image.Image:
    try:
        if os.path.getsize(path) == 0:
            raise UnusableImage("empty file (0 bytes)")
        image = Image.open(path)
    except UnusableImage:
        raise
    except Image.DecompressionBombError as exc:
        raise UnusableImage(f"decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise UnusableImage("not an image (no image format recognised)") from None
    except FileNotFoundError:
        # Listed a moment ago: the data changed under a running job.
        raise UnusableImage("missing (deleted after the folder was listed)") from None
    except OSError as exc:
        raise UnusableImage(f"cannot read ({exc.strerror or exc})") from None
    except (ValueError, SyntaxError) as exc:
        raise UnusableImage(f"corrupt image header ({exc})") from None
    limit = Image.MAX_IMAGE_PIXELS
    width, height = image.size
    if limit is not None and width * height > limit:
        image.close()
        raise UnusableImage(
            f"decompression bomb: {width}x{height} = {width * height:,} pixels, above "
            f"PIL.Image.MAX_IMAGE_PIXELS = {limit:,}")
    if width < 1 or height < 1:
        image.close()
        raise UnusableImage(f"image has no pixels ({width}x{height})")
    return image


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - EXIF parsers raise many types; orientation is optional
        return 1


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the photo
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in _HIGH_BIT_DEPTH_MODES:
        values = np.asarray(image).astype(np.float64)
        scaled = np.rint(np.clip(values, 0, 65535) * (255.0 / 65535.0)).astype(np.uint8)
        return Image.fromarray(scaled, mode="L").convert("RGB")
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, ALPHA_BACKGROUND)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image
