"""Files that are always whole: atomic writes, JSON shared by processes.

A writer can be killed at any moment (Ctrl-C, `kill -9`, a full disk), and
in a distributed search several processes read and write the same files.
So everything is written to a temporary sibling first, flushed to disk, and
then renamed over the target: a reader sees the old content or the new one,
never half of it. A read-modify-write of a shared JSON file also takes an
exclusive lock on a sidecar `.lock` file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path


def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` so that the file is always whole.

    Args:
        path: the file; its folder is created when missing.
        data: the new content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file sits beside the target: a rename is atomic only
    # within one file system.
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
        raise


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` so that the file is always whole (see atomic_write_bytes)."""
    atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_directory(path):
    """Build a folder under a temporary name; it replaces `path` only when whole.

        with atomic_directory(cache / key) as staging:
            np.save(staging / "features.npy", features)

    The staging folder is a sibling of `path` whose name starts with '.'. On
    an exception it is deleted and `path` is left as it was. An existing
    `path` is removed just before the rename, so a reader may briefly find
    no folder, but never a half-written one.

    Args:
        path: the folder to create or replace; its parent is created.

    Yields:
        The staging folder, a `Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        yield staging
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_json(path, default=None):
    """The content of a JSON file, or `default` when it does not exist yet.

    Args:
        path: the file.
        default: returned when the file is missing.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default


def write_json_atomic(path, value) -> None:
    """Write `value` as JSON so that the file is always whole.

    Args:
        path: the file; its folder is created when missing.
        value: anything json.dumps takes.
    """
    atomic_write_text(path, json.dumps(value, indent=1, sort_keys=True))


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock for a read-modify-write of `path`.

    The lock is on `path` + ".lock", since `path` itself is replaced by each
    write. The kernel releases it when the process dies, even by `kill -9`.

    Args:
        path: the JSON file about to be updated.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_json(path, change, default=None):
    """Read, change and write a JSON file under its lock; returns the new value.

    Args:
        path: the file.
        change: a function from the current value to the new one.
        default: the current value when the file does not exist yet.
    """
    with locked(path):
        value = change(read_json(path, default))
        write_json_atomic(path, value)
        return value
