"""Per-epoch checkpoints that survive `kill -9` at any moment.

Each checkpoint is a folder `epoch-NNNN/` holding the classifier's weights
(`model.weights.h5`), the optimizer's variables (`optimizer.npz`, plain
arrays, no pickle) and the training state (`state.json`: epoch, phase,
history, early-stopping counters, the MLflow run id...). It is written under
a temporary name and renamed into place; then the one-line `latest` file is
replaced (write, then rename). A crash leaves either the previous checkpoint
or the new one as `latest`, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

LATEST = "latest"
BEST_WEIGHTS = "best.weights.h5"


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


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

    def save(self, model, optimizer, state: dict) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{int(state['epoch']):04d}"
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=self.directory))
        model.save_weights(staging / "model.weights.h5")
        if optimizer is not None:
            np.savez(staging / "optimizer.npz",
                     **{f"v{i:05d}": np.asarray(v.numpy())
                        for i, v in enumerate(optimizer.variables)})
        (staging / "state.json").write_text(json.dumps(state, indent=1))
        target = self.directory / name
        if target.exists():  # a retried epoch after a crash between rename and `latest`
            shutil.rmtree(target)
        os.replace(staging, target)
        _atomic_write_text(self.directory / LATEST, name)
        self._prune(keep_name=name)
        return target

    def save_best(self, model) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".best-", suffix=".weights.h5", dir=self.directory)
        os.close(fd)
        model.save_weights(tmp)
        os.replace(tmp, self.directory / BEST_WEIGHTS)

    def _prune(self, keep_name: str) -> None:
        epochs = sorted(p for p in self.directory.glob("epoch-*") if p.is_dir())
        for old in epochs[:-self.keep]:
            if old.name != keep_name:
                shutil.rmtree(old, ignore_errors=True)
        for stale in self.directory.glob(".epoch-*"):  # staging left by a killed process
            shutil.rmtree(stale, ignore_errors=True)

    # -- reading ---------------------------------------------------------

    def latest(self) -> Path | None:
        pointer = self.directory / LATEST
        if not pointer.is_file():
            return None
        folder = self.directory / pointer.read_text().strip()
        return folder if (folder / "state.json").is_file() else None

    def load_state(self) -> dict | None:
        folder = self.latest()
        return json.loads((folder / "state.json").read_text()) if folder else None

    def restore_model(self, model) -> None:
        _load_weights_quietly(model, self.latest() / "model.weights.h5")

    def restore_optimizer(self, optimizer, variables) -> None:
        """Rebuild `optimizer` for `variables` and load the saved slot values."""
        path = self.latest() / "optimizer.npz"
        if not path.is_file():
            return
        optimizer.build(variables)
        with np.load(path, allow_pickle=False) as saved:
            values = [saved[k] for k in sorted(saved.files)]
        if len(values) != len(optimizer.variables):
            raise ValueError(
                f"Checkpoint {path} holds {len(values)} optimizer variables, the optimizer has "
                f"{len(optimizer.variables)}: it was written by a different configuration.")
        for variable, value in zip(optimizer.variables, values):
            variable.assign(value)

    def restore_best(self, model) -> bool:
        path = self.directory / BEST_WEIGHTS
        if path.is_file():
            _load_weights_quietly(model, path)
            return True
        return False


def _load_weights_quietly(model, path) -> None:
    # Optimizer state travels separately (optimizer.npz); Keras warns that the
    # weights file's empty optimizer entry does not match the live optimizer.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(path)
