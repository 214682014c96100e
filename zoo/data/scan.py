"""Walk a user's folder: which entries are candidate images, which are not.

Rules, the same for every layout:

* Hidden entries (name starting with '.', e.g. .DS_Store, ._photo.jpg, .git/)
  are skipped and counted as "hidden".
* Symlinks to files are followed, wherever they point. Broken symlinks are
  skipped. Symlinks to folders are skipped and never followed, so a link back
  up the tree cannot loop.
* Sockets, FIFOs and devices are skipped without being opened (opening a FIFO
  would block forever).
* Every other file is tried as an image whatever its extension: a JPEG saved
  without an extension is used, a README is skipped as "not an image".
* Class or domain folders are searched recursively; images in nested folders
  belong to the top folder.

Nothing is written to the folder: files are only opened for reading.
"""

from __future__ import annotations

import os
import stat
import warnings

from PIL import Image

from zoo.data.images import UnusableImage, probe_size
from zoo.data.report import DataReport


def list_subfolders(folder: str, report: DataReport) -> list[str]:
    """Names of the visible, real subfolders of `folder`, sorted.

    Hidden folders and symlinks to folders are recorded as skipped.

    Args:
        folder: the folder to list.
        report: where skipped entries are recorded.
    """
    names = []
    for entry in _entries(folder, report):
        if entry.is_dir(follow_symlinks=False):
            names.append(entry.name)
    return names


def list_files(folder: str, report: DataReport, recursive: bool = True) -> list[str]:
    """Paths of the candidate files under `folder`, sorted, not yet opened.

    Args:
        folder: the folder to walk.
        report: where hidden entries and bad links are recorded.
        recursive: also walk real (non-link) subfolders.
    """
    paths = []
    for entry in _entries(folder, report):
        if entry.is_dir(follow_symlinks=False):
            if recursive:
                paths += list_files(entry.path, report, recursive=True)
        elif is_regular_file(entry.path, report):
            paths.append(entry.path)
    return paths


def probe_files(paths: list[str], report: DataReport) -> list[tuple[str, tuple[int, int]]]:
    """Open the header of every file; keep the images, record the rest.

    Args:
        paths: candidate files.
        report: where unusable files are recorded.

    Returns:
        (path, (width, height)) for every file whose header is a usable image.
    """
    usable = []
    # Headers are read here in the calling thread, so this filter (which is
    # process-global) cannot race with decoder threads.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        for path in paths:
            try:
                usable.append((path, probe_size(path)))
            except UnusableImage as exc:
                report.skip(path, skip_category(str(exc)), str(exc))
    return usable


def _entries(folder: str, report: DataReport) -> list[os.DirEntry]:
    """Visible entries of a folder, sorted by name; links to folders dropped."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        report.skip(folder, "unreadable folder", f"cannot list folder ({exc.strerror or exc})")
        return []
    kept = []
    for entry in entries:
        if entry.name.startswith("."):
            report.skip(entry.path, "hidden", "hidden file or folder, ignored")
        elif entry.is_symlink() and not os.path.exists(entry.path):
            report.skip(entry.path, "broken symlink", "broken symlink (its target does not exist)")
        elif entry.is_symlink() and os.path.isdir(entry.path):
            report.skip(entry.path, "symlink to folder",
                        "symlink to a folder, not followed (avoids loops)")
        else:
            kept.append(entry)
    return kept


def is_regular_file(path: str, report: DataReport) -> bool:
    """Whether `path` is a regular file (after links), without opening it.

    Sockets, FIFOs and devices are recorded as skipped: opening a FIFO would
    block forever.

    Args:
        path: the file.
        report: where a skipped path is recorded.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        report.skip(path, "unreadable", f"cannot read ({exc.strerror or exc})")
        return False
    if not stat.S_ISREG(mode):
        report.skip(path, "not a regular file", "not a regular file (socket, FIFO or device)")
        return False
    return True


def skip_category(reason: str) -> str:
    """The short label of an UnusableImage reason: the text before '(' or ':'."""
    return reason.split("(")[0].split(":")[0].strip()
