"""ImageNet weights, offline first.

`weights="imagenet"` goes through Keras's own download and cache
(`$KERAS_HOME/models`, else `~/.keras/models`), so a file fetched by plain
Keras is found by zoo and the other way round. Without network and without a
cached file, zoo fails within seconds with a `WeightsUnavailableError` that
names the exact path expected and the remedies.

Local weights files (`weights=PATH`) may hold the backbone with or without
its top (classifier) layers; zoo tells which by counting the arrays in the
file, and says so when the file fits neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zoo.backbones import BackboneSpec, WeightsFile, backbone_info
from zoo.errors import WeightsError, WeightsUnavailableError

# A download that cannot connect should fail, not hang: connection attempts
# and stalled reads give up after this many seconds.
DOWNLOAD_TIMEOUT_S = 20.0


def keras_cache_dir() -> Path:
    """The folder where Keras keeps downloaded application weights."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if not os.access(home, os.W_OK) and os.path.exists(home):
        # Keras falls back to /tmp/.keras when its home is read-only.
        home = os.path.join(tempfile.gettempdir(), ".keras")
    return Path(home) / "models"


def _file_record(spec: BackboneSpec, include_top: bool) -> WeightsFile:
    if not spec.has_imagenet_weights:
        raise WeightsUnavailableError(
            f"Backbone '{spec.name}' is zoo's own ({spec.constructor_path}) and has no "
            f"ImageNet weights: it trains from scratch. Pass weights=None (CLI: --weights "
            f"none; --weights auto does so by itself), or pick a Keras Application from "
            f"`zoo list` for transfer learning.")
    return spec.weights if include_top else spec.weights_notop


def imagenet_weights_path(name: str, include_top: bool = False) -> Path:
    """Where Keras keeps (or would keep) the ImageNet weights of `name`."""
    spec = backbone_info(name)
    return keras_cache_dir() / _file_record(spec, include_top).file_name


def file_digest(path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_matches(path: Path, expected: str) -> bool:
    # Keras records md5 for older files and sha256 for newer ones.
    algorithm = "sha256" if len(expected) == 64 else "md5"
    return file_digest(path, algorithm) == expected


@dataclass(frozen=True)
class WeightsStatus:
    backbone: str
    include_top: bool
    path: Path
    present: bool
    valid: bool

    def describe(self) -> str:
        state = "valid" if self.valid else ("present but CORRUPT (hash mismatch)"
                                            if self.present else "missing")
        return f"{self.path}  [{state}]"


def imagenet_weights_status(name: str, include_top: bool = False) -> WeightsStatus:
    """Whether the ImageNet weights file is in the Keras cache and intact."""
    spec = backbone_info(name)
    path = imagenet_weights_path(spec.name, include_top)
    present = path.is_file()
    valid = present and _hash_matches(path, _file_record(spec, include_top).file_hash)
    return WeightsStatus(spec.name, include_top, path, present, valid)


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _unavailable_message(spec: BackboneSpec, include_top: bool, path: Path, reason: str) -> str:
    what = "with top" if include_top else "without top"
    flag = " --include-top" if include_top else ""
    return (
        f"ImageNet weights for backbone '{spec.name}' ({what}) are not in the Keras cache "
        f"and could not be downloaded: {reason}\n"
        f"  expected file: {path}\n"
        f"Remedies:\n"
        f"  - on a machine with internet, run `zoo weights fetch {spec.name}{flag}` and copy "
        f"the file to the path above (or point KERAS_HOME at a folder whose models/ holds it);\n"
        f"  - or pass weights=None (CLI: --weights none) to train from scratch;\n"
        f"  - or pass weights=PATH to a local weights file."
    )


def fetch_imagenet_weights(name: str, include_top: bool = False) -> Path:
    """Return the path of the cached ImageNet weights, downloading them if needed.

    Raises:
        WeightsUnavailableError: not cached (or corrupt) and the download
            failed, typically because there is no network.
    """
    import keras

    spec = backbone_info(name)
    record = _file_record(spec, include_top)
    status = imagenet_weights_status(spec.name, include_top)
    if status.valid:
        return status.path
    cache = keras_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            fetched = keras.utils.get_file(
                record.file_name,
                record.origin,
                cache_dir=str(cache.parent),
                cache_subdir=cache.name,
                file_hash=record.file_hash,
            )
    except Exception as exc:  # Keras wraps URL, socket and hash errors alike.
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if status.present:
            reason = f"the cached file failed its hash check, and re-downloading failed ({reason})"
        raise WeightsUnavailableError(
            _unavailable_message(spec, include_top, status.path, reason)
        ) from None
    return Path(fetched)


# ---------------------------------------------------------------------------
# Local weights files


def resolve_weights(choice: str | None, backbones, on_unavailable=None):
    """What `--weights` asks for, as `create_classifier`'s `weights`.

    Args:
        choice: "imagenet", "none", "auto" (ImageNet when every backbone's
            weights can be had, else none) or a file path (returned as it is;
            `create_classifier` checks it).
        backbones: the backbone names the weights are for.
        on_unavailable: `on_unavailable(error)` when "auto" falls back to
            none, to say what that means for the run.

    Raises:
        WeightsUnavailableError: "imagenet" was asked for and cannot be had.
    """
    if choice in (None, "none"):
        return None
    if choice not in ("auto", "imagenet"):
        return choice
    try:
        for name in backbones:
            fetch_imagenet_weights(name)
        return "imagenet"
    except WeightsUnavailableError as error:
        if choice == "imagenet":
            raise
        if on_unavailable is not None:
            on_unavailable(error)
        return None


def _h5_arrays(path: Path) -> list[tuple[int, ...]]:
    """Shapes of every array in an HDF5 weights file, Keras 3 or legacy format."""
    import h5py

    shapes: list[tuple[int, ...]] = []

    def visit(_, obj):
        if isinstance(obj, h5py.Dataset):
            shapes.append(tuple(obj.shape))

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(visit)
    except OSError as exc:
        raise WeightsError(
            f"Weights file {path} is not a readable HDF5 weights file ({exc}). "
            "Pass a Keras weights file (.weights.h5, or a keras.applications .h5 file)."
        ) from None
    return shapes


def _is_keras3_format(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as handle:
        return "layer_names" not in handle.attrs


@contextlib.contextmanager
def _loadable(path: Path):
    """Keras picks the reader by file suffix; give it the one the content needs."""
    keras3 = _is_keras3_format(path)
    if keras3 == path.name.endswith(".weights.h5"):
        yield str(path)
        return
    suffix = ".weights.h5" if keras3 else ".h5"
    with tempfile.TemporaryDirectory(prefix="zoo-weights-") as tmp:
        target = Path(tmp) / f"weights{suffix}"
        try:
            os.symlink(path.resolve(), target)
        except OSError:
            shutil.copyfile(path, target)
        yield str(target)


def _top_classes(spec: BackboneSpec, file_shapes, full_1000) -> int:
    """The class count of a with-top file: its arrays beyond those of a 1000-class model."""
    expected = sorted(tuple(w.shape) for w in full_1000.weights)
    remaining = list(file_shapes)
    for shape in expected:
        if shape in remaining:
            remaining.remove(shape)
    biases = [shape for shape in remaining if len(shape) == 1]
    if len(biases) != 1:
        raise WeightsError(f"Cannot tell the class count of the top layers in the file for "
                           f"'{spec.name}'.")
    return biases[0][0]


def load_backbone_weights(backbone, spec: BackboneSpec, path) -> str:
    """Load a local weights file into a (no-top) backbone built from `spec`.

    The file may hold the backbone alone ("notop") or the full ImageNet-style
    model with its classifier ("full"); the top layers of a full file are
    dropped. Returns which kind the file was.

    Raises:
        WeightsError: the file is missing, unreadable, or fits neither form.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(
            f"Weights file not found: {path}. Pass weights='imagenet', weights=None, "
            "or the path of an existing weights file."
        )
    shapes = _h5_arrays(path)
    n_notop = len(backbone.weights)
    if len(shapes) == n_notop:
        with _loadable(path) as loadable:
            try:
                backbone.load_weights(loadable)
            except Exception as exc:
                raise _mismatch(spec, path, f"loading it failed: {exc}") from None
        return "notop"

    full = spec.build(weights=None, include_top=True)
    if len(shapes) != len(full.weights):
        raise _mismatch(
            spec, path,
            f"it holds {len(shapes)} arrays, but '{spec.name}' has {n_notop} without its top "
            f"and {len(full.weights)} with it",
        )
    classes = 1000
    if sorted(shapes) != sorted(tuple(w.shape) for w in full.weights):
        classes = _top_classes(spec, shapes, full)
        full = spec.build(weights=None, include_top=True, classes=classes)
    with _loadable(path) as loadable:
        try:
            full.load_weights(loadable)
        except Exception as exc:
            raise _mismatch(spec, path, f"loading it as a full model failed: {exc}") from None
    # Same builder, same layer order: the no-top weights are a prefix of the full ones.
    prefix = full.weights[:n_notop]
    for mine, theirs in zip(backbone.weights, prefix):
        if tuple(mine.shape) != tuple(theirs.shape):
            raise _mismatch(spec, path, f"array {theirs.path} has shape {tuple(theirs.shape)}, "
                                        f"the backbone expects {tuple(mine.shape)}")
    backbone.set_weights([w.numpy() for w in prefix])
    return "full"


def _mismatch(spec: BackboneSpec, path: Path, detail: str) -> WeightsError:
    return WeightsError(
        f"Weights file {path} does not fit backbone '{spec.name}': {detail}. "
        f"Was it saved from another backbone? Use a file saved from "
        f"{spec.constructor_path} (with or without top)."
    )
