"""Small JSON files in the project directory, shared by processes.

Several processes touch them at once in a distributed search (the chief and
every worker on one machine), and any of them can be killed with `kill -9`.
So every update takes an exclusive lock on a sidecar `.lock` file, and every
write goes to a temporary file that then replaces the old one: a reader sees
the old content or the new one, never half of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
        raise


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
