"""The image files that files and folders name, and how one is read.

Folders are walked by the data layer's scanner (`zoo.data.scan`), so
hidden entries, broken links, links to folders, FIFOs and sockets are
skipped and reported exactly as when training data is loaded. A file named
directly is kept even when hidden. Images are decoded as the training data
loader decodes them (`zoo.data.images.decode_resized`): EXIF orientation
applied, grayscale and palette converted to RGB, transparency composited
over white, bilinear resize, uint8 pixels.
"""

from __future__ import annotations

import os

import numpy as np

from zoo.errors import PredictError

# The reason given to on_skip for a hidden file or folder.
HIDDEN = "hidden"


def collect_image_files(paths, on_skip=None) -> list[str]:
    """Expand files and folders into the candidate image files, in order.

    Folders are walked recursively and their files sorted by whole path, as
    `find | sort` lists them. Files named directly are kept even when
    hidden. A file met twice is listed once. Nothing is opened yet.

    Args:
        paths: image files and folders.
        on_skip: called as on_skip(path, reason) for each entry that is not
            a candidate; reason is "hidden" for hidden files and folders.

    Raises:
        PredictError: a path does not exist.
    """
    files, seen = [], set()
    for path in paths:
        path = os.fspath(path)
        if not os.path.exists(path):
            raise PredictError(f"IMAGE_OR_FOLDER '{path}' does not exist.")
        for file in _candidates(path, on_skip):
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def _candidates(path: str, on_skip) -> list[str]:
    from zoo.data.report import DataReport
    from zoo.data.scan import is_regular_file, list_files

    report = DataReport(root=path, kind="images")
    is_folder = os.path.isdir(path)
    if is_folder:
        # The scanner sorts each folder by name; a folder's files and its
        # subfolders' files interleave by whole path instead.
        found = sorted(list_files(path, report))
    else:
        found = [path] if is_regular_file(path, report) else []
    if on_skip is not None:
        for skipped in report.skipped:
            # The report keeps paths relative to the folder it scanned.
            where = os.path.join(path, skipped.path) if is_folder else path
            on_skip(where, HIDDEN if skipped.category == "hidden" else skipped.reason)
    return found


def read_image(path: str, size: tuple[int, int]) -> np.ndarray:
    """Decode one image the way training data is decoded (see the module doc).

    Args:
        path: the image file.
        size: (height, width) to resize to.

    Returns:
        uint8 array of shape (height, width, 3).

    Raises:
        zoo.data.images.UnusableImage: the file is not a usable image.
    """
    from zoo.data.images import decode_resized

    return decode_resized(path, size)
