"""What a `source` argument means, and the small conventions every loader shares.

A source is, in this order of precedence:

1. a string starting with "tfds:" - a TensorFlow Datasets name, e.g.
   "tfds:tf_flowers" or "tfds:cycle_gan/horse2zebra";
2. an existing folder (a str or os.PathLike);
3. the name of a data set embedded in zoo (see `zoo.data.EMBEDDED`). A folder
   of the same name in the working directory wins over the embedded set.
"""

from __future__ import annotations

import hashlib
import os

from zoo.errors import DataError

TFDS_PREFIX = "tfds:"


def resolve_source(source, embedded: tuple[str, ...], kind: str) -> tuple[str, str]:
    """Classify a source argument.

    Args:
        source: what the user passed.
        embedded: the embedded names valid for this kind of data.
        kind: "classification", "pairs" or "unpaired", for the error message.

    Returns:
        ("tfds", name), ("folder", path) or ("embedded", name).

    Raises:
        DataError: the source is none of these.
    """
    text = os.fspath(source) if isinstance(source, os.PathLike) else source
    if not isinstance(text, str):
        raise DataError(f"A {kind} source must be a folder path, 'tfds:NAME' or an embedded "
                        f"name, not {type(source).__name__}.")
    if text.startswith(TFDS_PREFIX):
        name = text[len(TFDS_PREFIX):].strip("/")
        if not name:
            raise DataError(f"{text!r} names no data set; write e.g. 'tfds:tf_flowers'.")
        return "tfds", name
    if os.path.isdir(text):
        return "folder", text
    if text in embedded:
        return "embedded", text
    if os.path.exists(text):
        raise DataError(f"{text} is a file, not a folder. A {kind} source is a folder, "
                        f"'tfds:NAME' or one of the embedded sets: {', '.join(embedded)}.")
    raise DataError(f"{text!r} is not a folder, not 'tfds:NAME' and not an embedded {kind} set "
                    f"(those are: {', '.join(embedded)}).")


def as_size(image_size) -> tuple[int, int]:
    """(height, width) from an int or a pair.

    Args:
        image_size: an int for square images, or (height, width).
    """
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        size = (image_size, image_size)
    else:
        try:
            size = tuple(int(v) for v in image_size)
        except (TypeError, ValueError):
            size = ()
    if len(size) != 2 or min(size) < 1:
        raise DataError(
            f"image_size must be a positive int or (height, width), not {image_size!r}.")
    return size


def files_key(*parts, paths=()) -> str:
    """A key that changes when any of the files, or any of the parts, change.

    Args:
        parts: anything else the cached data depends on (size, kind...).
        paths: files whose name, size and modification time enter the key.
    """
    digest = hashlib.sha1(repr(parts).encode())
    for path in paths:
        try:
            info = os.stat(path)
            digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode(
                "utf-8", "surrogateescape"))
        except OSError:
            digest.update(os.fsencode(path))
    return digest.hexdigest()


def hold_out(items: list, fraction: float, seed: int) -> tuple[list, list]:
    """Split items into (kept, held out) at random but reproducibly.

    Holds out round(fraction * n) items, at least one when n >= 2 and
    fraction > 0, never all of them. Both parts keep the original order.

    Args:
        items: anything.
        fraction: share to hold out, in [0, 1).
        seed: seed of the random choice.
    """
    import numpy as np

    n = len(items)
    n_out = min(max(1, round(fraction * n)), n - 1) if n >= 2 and fraction > 0 else 0
    chosen = set(np.random.default_rng(seed).permutation(n)[:n_out].tolist())
    return ([x for i, x in enumerate(items) if i not in chosen],
            [x for i, x in enumerate(items) if i in chosen])
