"""Backbone features computed once, then reused by every head epoch and run.

With a frozen backbone and no augmentation, the backbone maps each image to
the same features in every epoch. Computing them once turns head epochs
into a few matrix products. Entries are keyed on the backbone, its weights,
the image size and a digest of the data (images and labels, order-free), so
a changed data set or weights file never reuses stale features.

Entries live on disk (one folder per key, plain `.npy` arrays: no pickle)
under `$ZOO_CACHE_DIR/features`, else `~/.cache/zoo/features`, and are kept
in memory as well while they fit the memory budget; larger ones are
memory-mapped from disk instead of loaded.

An entry is trusted only after a check: `entry.json` records the size and
SHA-256 of each array file, and an entry whose files do not match (cut
short, damaged, or left by an older zoo without the record) is a miss: the
features are computed again and the entry replaced, with one warning naming
the folder. Several processes may put the same entry at once; the first
whole one wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.files import atomic_directory, file_sha256, read_json

# The record of an entry's files: {name: {"size": bytes, "sha256": hex}}.
ENTRY_RECORD = "entry.json"
ARRAYS = ("features.npy", "labels.npy")

# Entries up to this size stay in memory within a process, e.g. across the
# trials of a tuner search; larger ones are memory-mapped from disk.
MEMORY_BUDGET_BYTES = 1 << 30


def default_feature_cache_dir() -> Path:
    root = os.environ.get("ZOO_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                           "zoo")
    return Path(root) / "features"


@dataclass
class DataDigest:
    """What one pass over a labelled dataset tells: its digest, size and labels."""

    digest: str
    count: int
    labels: np.ndarray


def dataset_digest(dataset) -> DataDigest:
    """An order-independent digest of a dataset of (images, labels) batches.

    Each example is hashed on its own and the sorted hashes are hashed
    together, so a reshuffled copy of the same data has the same digest.
    """
    hashes, labels = [], []
    for images, batch_labels in dataset.as_numpy_iterator():
        labels.append(np.asarray(batch_labels))
        for image, label in zip(images, batch_labels):
            h = hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16)
            h.update(str(image.shape).encode())
            h.update(np.asarray(label).tobytes())
            hashes.append(h.digest())
    hashes.sort()
    total = hashlib.sha256()
    for h in hashes:
        total.update(h)
    labels = np.concatenate(labels) if labels else np.zeros((0,), "int64")
    return DataDigest(total.hexdigest(), len(hashes), labels)


def weights_identity(weights, seed=None) -> str:
    """What identifies a backbone's weights: 'imagenet', random ones by their
    seed (each seed initialises a different backbone), or a file digest."""
    if weights is None or weights == "none":
        return f"random:seed={seed}"
    if weights == "imagenet":
        return "imagenet"
    return f"file:{file_sha256(weights)}"


def cache_key(backbone: str, weights, image_size, data_digest: str, pooling="avg",
              seed=None) -> str:
    parts = {
        "backbone": backbone,
        "weights": weights_identity(weights, seed),
        "image_size": list(image_size) if isinstance(image_size, (tuple, list)) else image_size,
        "pooling": pooling,
        "data": data_digest,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Features:
    features: np.ndarray
    labels: np.ndarray


class FeatureCache:
    """Disk-backed, memory-fronted store of backbone features.

    Args:
        directory: where entries are written; defaults to `default_feature_cache_dir()`.
        memory_budget: entries up to this many bytes are also kept in memory.
    """

    def __init__(self, directory=None, memory_budget: int = MEMORY_BUDGET_BYTES):
        self.directory = Path(directory) if directory else default_feature_cache_dir()
        self.memory_budget = memory_budget
        self._memory: dict[str, Features] = {}
        self.hits = 0
        self.misses = 0
        self.damaged: set[str] = set()  # keys found damaged, each warned about once

    def _path(self, key: str) -> Path:
        return self.directory / key

    def get(self, key: str) -> Features | None:
        """The entry of `key`, or None when there is none or it fails its check."""
        if key in self._memory:
            self.hits += 1
            return self._memory[key]
        folder = self._path(key)
        if folder.is_dir():
            problem = entry_damage(folder)
            entry = None
            if problem is None:
                try:
                    entry = self._load(folder)
                except (OSError, ValueError) as exc:  # changed since the check
                    problem = f"it cannot be read ({exc})"
            if entry is not None:
                self.hits += 1
                return entry
            self._warn(folder, problem)
        self.misses += 1
        return None

    def _load(self, folder: Path) -> Features:
        size = (folder / "features.npy").stat().st_size
        mmap = "r" if size > self.memory_budget else None
        entry = Features(np.load(folder / "features.npy", mmap_mode=mmap, allow_pickle=False),
                         np.load(folder / "labels.npy", allow_pickle=False))
        if mmap is None:
            self._memory[folder.name] = entry
        return entry

    def _warn(self, folder: Path, problem: str) -> None:
        if folder.name in self.damaged:
            return
        self.damaged.add(folder.name)
        warnings.warn(f"Feature cache entry {folder} is damaged ({problem}); computing the "
                      f"features again and replacing it.", stacklevel=3)

    def put(self, key: str, entry: Features) -> None:
        """Write an entry atomically, with the record it is checked against.

        A half-written entry is never read; a full disk is a
        zoo.files.DiskFullError naming the folder.
        """
        with atomic_directory(self._path(key)) as staging:
            np.save(staging / "features.npy", entry.features, allow_pickle=False)
            np.save(staging / "labels.npy", entry.labels, allow_pickle=False)
            record = {name: {"size": (staging / name).stat().st_size,
                             "sha256": file_sha256(staging / name)} for name in ARRAYS}
            (staging / ENTRY_RECORD).write_text(json.dumps(record, indent=1))
        if entry.features.nbytes <= self.memory_budget:
            self._memory[key] = entry


def entry_damage(folder: Path) -> str | None:
    """What is wrong with a cache entry's folder, or None when it is intact."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported below, as this entry's damage
        record = read_json(folder / ENTRY_RECORD)
    if not isinstance(record, dict):
        return f"{ENTRY_RECORD} is missing or unreadable"
    for name in ARRAYS:
        path, expected = folder / name, record.get(name) or {}
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != expected.get("size"):
            return f"{name} has {path.stat().st_size} bytes, {expected.get('size')} were written"
        if file_sha256(path) != expected.get("sha256"):
            return f"{name} does not match its checksum"
    return None


def extract_features(feature_model, dataset, progress: bool = True) -> Features:
    """Run `feature_model` once over `dataset`, keeping labels aligned."""
    import keras

    features, labels = [], []
    batches = int(dataset.cardinality())
    bar = (keras.utils.Progbar(batches if batches > 0 else None, unit_name="batch")
           if progress else None)
    for step, (images, batch_labels) in enumerate(dataset):
        features.append(np.asarray(feature_model.predict_on_batch(images)))
        labels.append(np.asarray(batch_labels))
        if bar is not None:
            bar.update(step + 1)
    return Features(np.concatenate(features).astype("float32"), np.concatenate(labels))


@dataclass
class CachedFeatures:
    """Backbone features of a training and a validation set."""

    train: Features
    val: Features
    hit: bool  # both were found in the cache


def compute_features(config, train, val, cache: FeatureCache | None = None, *, model=None,
                     train_digest: str | None = None) -> CachedFeatures:
    """Features of `train` and `val` for `config`'s backbone, from the cache when there.

    The backbone is built (or `model`, a zoo classifier, is used) only when
    an entry is missing.
    """
    cache = cache or FeatureCache()
    extractor = None
    found, hit = [], True
    for dataset, digest in ((train, train_digest), (val, None)):
        digest = digest or dataset_digest(dataset).digest
        key = cache_key(config.backbone, config.weights, config.image_size, digest,
                        seed=config.seed)
        entry = cache.get(key)
        if entry is None:
            hit = False
            if extractor is None:
                from zoo.classification.classifier import build_classifier, feature_extractor

                if model is None:
                    import keras

                    # Random weights are those of this seed, as the key says.
                    keras.utils.set_random_seed(config.seed)
                    model = build_classifier(config.classifier, 2)
                extractor = feature_extractor(model)
            entry = extract_features(extractor, dataset)
            cache.put(key, entry)
        found.append(entry)
    return CachedFeatures(found[0], found[1], hit)
