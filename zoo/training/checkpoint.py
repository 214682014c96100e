"""Per-epoch checkpoints of any set of models, optimizers and variables,
verified before use and safe against `kill -9` at any moment.

Each checkpoint is a folder `epoch-NNNN/` holding:
- `ckpt.index` and `ckpt.data-*`: a `tf.train.Checkpoint` of the objects the
  caller names (`{"model": ..., "optimizer": ...}`, or a GAN's two or four
  of each and its image pools). TensorFlow matches every variable to its
  object by the object graph, not by position, so a checkpoint restores into
  the same objects built again, and says so when they differ;
- `state.json`: the loop's state (epoch, phase, history, early stopping, the
  MLflow run id...);
- `manifest.json`: the size and SHA-256 of every other file, checked before
  the checkpoint is used. A truncated or missing file makes the checkpoint
  count as damaged: it is skipped with a warning and the newest intact one is
  used instead.

A folder is written under a temporary name and renamed into place, then the
one-line `latest` file is replaced (write, then rename). A crash leaves either
the previous checkpoint or the new one as `latest`, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from zoo.errors import CheckpointError
from zoo.files import (
    DiskFullError,
    atomic_directory,
    atomic_write_text,
    file_sha256,
    is_disk_full,
)

LATEST = "latest"
BEST = "best.weights.h5"
BEST_DIGEST = "best.sha256"
PREFIX = "ckpt"
MANIFEST = "manifest.json"
STATE = "state.json"
# (folder, problem) of the damaged checkpoints already reported in this
# process: a recipe reads the state and the trainer restores the weights, each
# with its own Checkpointer, and the damage is news only once.
_REPORTED_DAMAGE: set[tuple[str, str]] = set()


def seed_states(model) -> dict:
    """The random-generator states of `model`'s layers (dropout and the like).

    TensorFlow's object graph does not reach Keras's SeedGenerator objects,
    yet an exact resume needs them: the dropout masks after a resume must be
    the ones an uninterrupted run draws. Each is keyed by its layer's
    position in the model (`3.1.seed_generator`: attribute `seed_generator`
    of the second layer of the fourth), which is the same in every process
    that builds the model; names are not (Keras numbers unnamed layers and
    generators in order of creation).
    """
    import keras

    states = {}

    def visit(layer, key):
        for attribute, value in vars(layer).items():
            if isinstance(value, keras.random.SeedGenerator):
                states[f"{key}.{attribute}"] = value.state
        for index, child in enumerate(getattr(layer, "layers", [])):
            visit(child, f"{key}.{index}")

    for index, child in enumerate(getattr(model, "layers", [])):
        visit(child, str(index))
    return states


def trackable(objects: dict) -> dict:
    """`objects` plus the seed states of each model among them."""
    import keras

    tracked = dict(objects)
    for name, value in objects.items():
        if isinstance(value, keras.Model):
            states = seed_states(value)
            if states:
                tracked[f"{name}_seeds"] = states
    return tracked


def _write(folder: Path, objects: dict, state: dict | None) -> None:
    import tensorflow as tf

    tf.train.Checkpoint(**trackable(objects)).write(str(folder / PREFIX))
    if state is not None:
        (folder / STATE).write_text(json.dumps(state, indent=1))
    manifest = {p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)}
                for p in sorted(folder.iterdir()) if p.is_file()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))


def damage(folder: Path) -> str | None:
    """What is wrong with a checkpoint folder, or None when it is intact."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return f"{MANIFEST} is missing"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        return f"{MANIFEST} is unreadable ({exc})"
    for name, expected in manifest.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != expected["size"]:
            return (f"{name} has {path.stat().st_size} bytes, "
                    f"{expected['size']} were written")
        if file_sha256(path) != expected["sha256"]:
            return f"{name} does not match its checksum"
    return None


class Checkpointer:
    """Writes and reads the checkpoints of one training run in `directory`.

    Args:
        directory: the run's checkpoint folder (created on first save).
        keep: how many epoch checkpoints to keep.
    """

    def __init__(self, directory, keep: int = 2):
        self.directory = Path(directory)
        self.keep = keep

    # -- writing ---------------------------------------------------------

    def save(self, objects: dict, state: dict) -> Path:
        """Write `objects` (name -> model, optimizer, variable...) and `state`."""
        name = f"epoch-{int(state['epoch']):04d}"
        target = self.directory / name
        # An existing folder is a retried epoch after a crash between the
        # rename and `latest`: it is replaced.
        with atomic_directory(target) as staging:
            _write(staging, objects, state)
        atomic_write_text(self.directory / LATEST, name)
        self._prune(keep_name=name)
        return target

    def save_best(self, model) -> None:
        """Keep `model`'s weights as the best so far, replacing the previous best.

        A Keras weights file, not a tf.train.Checkpoint: the model tracks its
        optimizer, whose state the best weights do not need.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".best-", suffix=".weights.h5", dir=self.directory)
        os.close(fd)
        try:
            model.save_weights(tmp)
            atomic_write_text(self.directory / BEST_DIGEST, file_sha256(Path(tmp)))
            os.replace(tmp, self.directory / BEST)
        except Exception as exc:
            if is_disk_full(exc) and not isinstance(exc, DiskFullError):
                best = self.directory / BEST
                raise DiskFullError(best, best.stat().st_size if best.is_file() else None) \
                    from exc
            raise
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def _prune(self, keep_name: str) -> None:
        epochs = sorted(p for p in self.directory.glob("epoch-*") if p.is_dir())
        for old in epochs[:-self.keep]:
            if old.name != keep_name:
                shutil.rmtree(old, ignore_errors=True)
        for stale in self.directory.glob(".epoch-*"):  # staging left by a killed process
            shutil.rmtree(stale, ignore_errors=True)

    # -- reading ---------------------------------------------------------

    def _candidates(self) -> list[Path]:
        """Checkpoint folders, the one `latest` names first, then newest first."""
        folders = sorted((p for p in self.directory.glob("epoch-*") if p.is_dir()),
                         reverse=True)
        pointer = self.directory / LATEST
        if pointer.is_file():
            named = self.directory / pointer.read_text().strip()
            if named in folders:
                folders.remove(named)
                folders.insert(0, named)
        return folders

    def latest(self) -> Path | None:
        """The newest intact checkpoint; damaged ones are skipped with a warning.

        Raises:
            CheckpointError: there are checkpoints, but none is intact.
        """
        candidates = self._candidates()
        for folder in candidates:
            problem = damage(folder)
            if problem is None:
                return folder
            if (str(folder.resolve()), problem) not in _REPORTED_DAMAGE:
                _REPORTED_DAMAGE.add((str(folder.resolve()), problem))
                warnings.warn(f"Checkpoint {folder} is damaged ({problem}); "
                              f"trying an older one.", stacklevel=2)
        if candidates:
            raise CheckpointError(
                f"No intact checkpoint in {self.directory}: all {len(candidates)} are damaged "
                f"(see the warnings above). Start afresh without --resume, or point "
                f"--output-dir elsewhere.")
        return None

    def load_state(self) -> dict | None:
        folder = self.latest()
        return json.loads((folder / STATE).read_text()) if folder else None

    def restore(self, objects: dict) -> None:
        """Load the latest intact checkpoint into `objects`, built as when saved.

        Optimizers must be built (`optimizer.build(variables)`) first, so that
        their slots exist to receive the saved values.
        """
        folder = self.latest()
        if folder is None:
            raise CheckpointError(f"No checkpoint in {self.directory} to restore.")
        _read(folder, objects)

    def restore_best(self, model) -> bool:
        """Load the best weights into `model`; False when there are none intact."""
        path = self.directory / BEST
        digest = self.directory / BEST_DIGEST
        if not path.is_file() or not digest.is_file():
            return False
        if file_sha256(path) != digest.read_text().strip():
            warnings.warn(f"Best weights {path} are damaged (checksum); keeping the current "
                          f"weights.", stacklevel=2)
            return False
        with warnings.catch_warnings():
            # The weights file has no optimizer entry; the live model may have one.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)
        return True


def _read(folder: Path, objects: dict) -> None:
    import tensorflow as tf

    try:
        status = tf.train.Checkpoint(**trackable(objects)).read(str(folder / PREFIX))
        status.assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as exc:
        raise CheckpointError(
            f"Checkpoint {folder} does not fit the model being trained: it was written by a "
            f"different configuration ({str(exc).splitlines()[0][:300]}). Start afresh "
            f"without --resume, or point --output-dir elsewhere.") from exc
    status.expect_partial()
