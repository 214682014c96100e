"""Files that are always whole: atomic writes, JSON shared by processes.

A writer can be killed at any moment (Ctrl-C, `kill -9`, a full disk), and
in a distributed search several processes read and write the same files.
So everything is written to a temporary sibling first, flushed to disk, and
then renamed over the target: a reader sees the old content or the new one,
never half of it. A read-modify-write of a shared JSON file also takes an
exclusive lock on a sidecar `.lock` file.

Faults are reported, not hidden: a full disk is a `DiskFullError` naming the
file and the space it needed (the previous content stays as it was), and a
JSON state file that does not parse is reported with its path and read as
missing, so that the state is rebuilt instead of the run ending.
"""

from __future__ import annotations

import contextlib
import hashlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from zoo.errors import ZooError


class DiskFullError(ZooError, OSError):
    """A write that failed for lack of space; what was there before is intact.

    Args:
        path: the file or folder being written.
        needed: bytes the write needed, when known.
    """

    def __init__(self, path, needed: int | None = None):
        self.path = Path(path)
        self.needed = needed
        try:
            free = shutil.disk_usage(_existing_parent(self.path)).free
        except OSError:
            free = None
        need = f"about {_size(needed)}" if needed else "more space"
        left = f"; {_size(free)} free" if free is not None else ""
        super().__init__(errno.ENOSPC,
                         f"No space left on the device to write {self.path}: it needs {need}"
                         f"{left}. Free some space (or point the output elsewhere) and run "
                         f"again; the previous version of {self.path.name} was kept.")

    def __str__(self):
        return self.strerror


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk is full (ENOSPC, or EDQUOT: over quota).

    TensorFlow reports it as an OpError whose message carries the C text.
    """
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc)


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _size(count: int | None) -> str:
    if count is None:
        return "an unknown amount"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"


def folder_size(path) -> int:
    """Bytes in the files under `path` (0 when it does not exist)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def file_sha256(path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise DiskFullError(path, len(data)) from exc
        raise


@contextlib.contextmanager
def atomic_file(path):
    """A temporary sibling of `path` to write (by any library); it replaces `path` when whole.

        with atomic_file(output / "model.keras") as staging:
            model.save(staging)

    The temporary name keeps the suffix, for writers that check it. On an
    exception it is deleted and `path` is left as it was; a full disk is a
    `DiskFullError` naming `path`.

    Args:
        path: the file to create or replace; its folder is created.

    Yields:
        The temporary file's `Path` (it does not exist yet).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.parent / f".{path.stem}-{os.getpid()}-{os.urandom(4).hex()}{path.suffix}"
    try:
        yield staging
        os.replace(staging, path)
    except Exception as exc:
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            written = staging.stat().st_size if staging.is_file() else 0
            previous = path.stat().st_size if path.is_file() else 0
            raise DiskFullError(path, max(written, previous) or None) from exc
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` so that the file is always whole (see atomic_write_bytes)."""
    atomic_write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def atomic_directory(path):
    """Build a folder under a temporary name; it replaces `path` only when whole.

        with atomic_directory(cache / key) as staging:
            np.save(staging / "features.npy", features)

    The staging folder is a sibling of `path` whose name starts with '.'. On
    an exception it is deleted and `path` is left as it was; a full disk is
    a `DiskFullError` (the space needed is estimated from the folder being
    replaced, or from what was staged). An existing `path` is removed just
    before the rename, so a reader may briefly find no folder, but never a
    half-written one.

    Several processes may build the same folder at once (workers on one
    machine filling one cache). When another one renames its folder into
    place between our removal and our rename, the rename fails with "not
    empty": theirs is kept, since it is just as whole.

    Args:
        path: the folder to create or replace; its parent is created.

    Yields:
        The staging folder, a `Path`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(path, folder_size(path) or None) from exc
        raise
    try:
        try:
            yield staging
        except Exception as exc:
            if is_disk_full(exc) and not isinstance(exc, DiskFullError):
                raise DiskFullError(path, max(folder_size(path), folder_size(staging))
                                    or None) from exc
            raise
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
        try:
            os.replace(staging, path)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not path.is_dir():
                raise
            # Another process put its whole folder here first: keep it.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_json(path, default=None):
    """The content of a JSON file, or `default` when it does not exist yet.

    A file that exists but does not parse (cut short by a crash of another
    tool, or damaged on disk) is treated as missing, with a warning naming
    it: the state it held is rebuilt rather than the run ending. The next
    write replaces it.

    Args:
        path: the file.
        default: returned when the file is missing or unreadable.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        warnings.warn(f"{path} is damaged and was ignored (it is not valid JSON: {exc}); "
                      f"it will be rewritten.", stacklevel=2)
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
