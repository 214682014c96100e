"""Image classification data: a folder of class folders, a TFDS data set, or
an embedded set, as batched tf.data pipelines of (uint8 RGB image, int label).

Folder layouts:

    FOLDER/<class>/<image>                  validation carved from it
    FOLDER/train/<class>/<image>            optional FOLDER/val (or validation)
                                            and FOLDER/test with the same classes

Class names are the folder names, sorted; labels are their indices. Empty
class folders are ignored (noted in the report) as long as two classes remain.
Images directly in FOLDER are skipped: they belong to no class.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from zoo.data import embedded, tfds_source
from zoo.data.images import decode_resized
from zoo.data.pipeline import Decoded, decode_items
from zoo.data.report import DataReport
from zoo.data.scan import list_files, list_subfolders, probe_files
from zoo.data.sources import as_size, files_key, resolve_source
from zoo.errors import DataError, ZooError
from zoo.seed import DEFAULT_SEED

EXPECTED_LAYOUT = ("FOLDER/<class>/<image> with at least two class folders "
                   "(or FOLDER/train/<class>/<image>, with optional val/ and test/ alike)")
SPLIT_FOLDERS = {"train": "train", "val": "val", "validation": "val", "test": "test"}


@dataclasses.dataclass
class ClassificationScan:
    """The usable files of a classification folder, per split.

    Args:
        class_names: sorted class folder names; a label is an index here.
        splits: "train", and "val" / "test" when the folder has them, each a
            list of (path, label).
        report: counts, skipped files and notes.
        groups: path -> its group in report.counts (class, or split/class).
    """

    class_names: list[str]
    splits: dict[str, list[tuple[str, int]]]
    report: DataReport
    groups: dict[str, str]


def scan_classification(root: str) -> ClassificationScan:
    """Find the classes and usable images of a folder, without decoding them.

    Args:
        root: the folder.

    Raises:
        DataError: no images, or fewer than two classes with images.
    """
    report = DataReport(root=root, kind="classification")
    top = list_subfolders(root, report)
    split_layout = "train" in top and all(name in SPLIT_FOLDERS for name in top)
    report.layout = ("train/val/test folders of class folders" if split_layout
                     else "one folder per class")
    folders = {SPLIT_FOLDERS[n]: n for n in top} if split_layout else {"train": ""}
    found = {split: _scan_class_folders(os.path.join(root, name), report, name)
             for split, name in folders.items()}
    groups = {}

    class_names = sorted(found["train"])
    _require_two_classes(root, class_names, report)
    splits = {}
    for split, classes in found.items():
        entries = []
        group_prefix = f"{folders[split]}/" if split_layout else ""
        for name, paths in classes.items():
            if name not in found["train"]:
                for path in paths:
                    report.skip(path, "class not in train/", f"class '{name}' has no folder "
                                "with images in train/, so it has no label")
                report.counts.pop(group_prefix + name, None)
                continue
            entries += [(path, class_names.index(name)) for path in paths]
            groups.update((path, group_prefix + name) for path in paths)
        splits[split] = entries
    return ClassificationScan(class_names, splits, report, groups)


def load_classification(source, image_size, batch_size: int = 32,
                        validation_split: float = 0.2, seed: int = DEFAULT_SEED, *,
                        shuffle: bool = True, data_dir: str | None = None,
                        download: bool = True, memory_budget: int | None = None,
                        cache_dir: str | None = None):
    """Training and validation data for an image classifier.

    Args:
        source: a folder of class folders, "tfds:NAME[/CONFIG]", or an
            embedded name ("digits", "faces"); see `zoo.data.sources`.
        image_size: int, or (height, width); every image is resized to it
            (aspect ratio not kept, as keras' image_dataset_from_directory).
        batch_size: images per batch.
        validation_split: fraction of each class held out for validation,
            when the source has no validation split of its own. Embedded sets
            ignore it: their split is fixed (see `zoo.data.embedded`). 0 gives
            no validation set (None).
        seed: seed of the validation split and of the shuffling.
        shuffle: reshuffle the training set every epoch.
        data_dir: TFDS data dir (default: TFDS's own, e.g. $TFDS_DATA_DIR).
        download: TFDS only: download a data set that is not prepared yet.
        memory_budget: bytes of decoded images kept in memory per split;
            beyond it images are streamed and cached to a file.
        cache_dir: where such file caches go ($ZOO_DATA_CACHE by default).

    Returns:
        (train, val, class_names): tf.data.Datasets of (images, labels)
        batches, images uint8 (batch, height, width, 3) in 0..255 and labels
        int32; class_names a list of str, label i being class_names[i].

    Raises:
        DataError: a source that cannot be used; the message says why.
    """
    size = as_size(image_size)
    if not 0 <= validation_split < 1:
        raise DataError(f"validation_split must be in [0, 1), not {validation_split}.")
    kind, ref = resolve_source(source, embedded.EMBEDDED_CLASSIFICATION, "classification")
    if kind == "tfds":
        return tfds_source.load_classification(
            ref, size, batch_size, validation_split, seed, shuffle=shuffle,
            data_dir=data_dir, download=download, memory_budget=memory_budget,
            cache_dir=cache_dir)
    if kind == "embedded":
        images, labels, class_names = embedded.classification_arrays(ref, "train", size)
        val_images, val_labels, _ = embedded.classification_arrays(ref, "val", size)
        train = Decoded(arrays=(images, labels))
        val = Decoded(arrays=(val_images, val_labels))
        return (train.batches(batch_size, shuffle=shuffle, seed=seed),
                val.batches(batch_size, shuffle=False, seed=None), class_names)

    scan = scan_classification(ref)
    train_items, val_items = scan.splits["train"], scan.splits.get("val")
    if val_items is None:
        train_items, val_items = _split_per_class(train_items, validation_split, seed)
    decode = _decoder(size)
    train = _decode(train_items, decode, size, scan, memory_budget, cache_dir)
    val = _decode(val_items, decode, size, scan, memory_budget, cache_dir) if val_items else None
    scan.report.log()
    return (train.batches(batch_size, shuffle=shuffle, seed=seed),
            val.batches(batch_size, shuffle=False, seed=None) if val else None,
            scan.class_names)


def load_test(source, image_size, batch_size: int = 32, *, data_dir: str | None = None,
              download: bool = True, memory_budget: int | None = None,
              cache_dir: str | None = None):
    """The held-out test split, never used for training or model selection.

    Args:
        source: as in `load_classification`. Folders need a test/ folder
            (FOLDER/train/<class>/..., FOLDER/test/<class>/...); TFDS sets need
            a "test" split; embedded sets always have one.
        image_size: int, or (height, width).
        batch_size: images per batch.
        data_dir: TFDS data dir.
        download: TFDS only: download a data set that is not prepared yet.
        memory_budget: as in `load_classification`.
        cache_dir: as in `load_classification`.

    Returns:
        (test, class_names): unshuffled batches of (uint8 images, int32 labels).

    Raises:
        DataError: the source has no test split.
    """
    size = as_size(image_size)
    kind, ref = resolve_source(source, embedded.EMBEDDED_CLASSIFICATION, "classification")
    if kind == "tfds":
        return tfds_source.load_classification_test(
            ref, size, batch_size, data_dir=data_dir, download=download,
            memory_budget=memory_budget, cache_dir=cache_dir)
    if kind == "embedded":
        images, labels, class_names = embedded.classification_arrays(ref, "test", size)
        test = Decoded(arrays=(images, labels))
        return test.batches(batch_size, shuffle=False, seed=None), class_names
    scan = scan_classification(ref)
    if not scan.splits.get("test"):
        raise DataError(f"{ref} has no test split: expected {ref}/train/<class>/<image> and "
                        f"{ref}/test/<class>/<image> (found {scan.report.layout}).")
    test = _decode(scan.splits["test"], _decoder(size), size, scan, memory_budget, cache_dir)
    scan.report.log()
    return test.batches(batch_size, shuffle=False, seed=None), scan.class_names


@dataclasses.dataclass
class ClassificationSplits:
    """A classifier's data: unshuffled batches of (uint8 images, int32 labels)."""

    train: object
    val: object
    test: object | None  # None: the source has no test split
    class_names: list[str]


def load_splits(source, image_size, batch_size: int = 32, seed: int = DEFAULT_SEED, *,
                with_test: bool = True) -> ClassificationSplits:
    """Training, validation and, when the source has one, test data, read once.

    Nothing is shuffled here: training shuffles each epoch with a seed of the
    epoch, so that a resumed run sees the same batches.

    Raises:
        DataError: the source gives no validation data, which choosing the
            best epoch needs.
    """
    train, val, class_names = load_classification(source, image_size, batch_size, seed=seed,
                                                  shuffle=False)
    if val is None:
        raise DataError(f"{source} gives no validation data, which choosing the best epoch "
                        f"needs: give it a val/ folder, or more images per class.")
    test = None
    if with_test:
        try:
            test, _ = load_test(source, image_size, batch_size)
        except ZooError:
            test = None  # the source has no test split: scores are on validation only
    return ClassificationSplits(train, val, test, class_names)


def _scan_class_folders(folder: str, report: DataReport, split: str) -> dict[str, list[str]]:
    """class name -> usable image paths; loose files and empty classes reported."""
    prefix = f"{split}/" if split else ""
    for path in list_files(folder, report, recursive=False):
        report.skip(path, "not in a class folder",
                    "not inside a class folder, so it has no label")
    classes = {}
    for name in list_subfolders(folder, report):
        usable = probe_files(list_files(os.path.join(folder, name), report), report)
        if not usable:
            report.note(f"class folder '{prefix}{name}' has no usable images; ignored")
            continue
        classes[name] = [path for path, _ in usable]
        report.counts[prefix + name] = len(usable)
        report.sizes.update(usable)
    return classes


def _require_two_classes(root: str, class_names: list[str], report: DataReport) -> None:
    if len(class_names) >= 2:
        return
    skipped = f", skipped {len(report.skipped)} unusable files" if report.skipped else ""
    if not class_names:
        raise DataError(f"No images found in class folders of {root}{skipped}. "
                        f"Expected layout: {EXPECTED_LAYOUT}.")
    only = class_names[0]
    count = next(n for g, n in report.counts.items() if g.endswith(only))
    raise DataError(f"Only one class in {root}: '{only}' ({count} images){skipped}. "
                    f"A classifier needs at least two. Expected layout: {EXPECTED_LAYOUT}.")


def _split_per_class(items, fraction: float, seed: int):
    """Hold out round(fraction * n) of each class (at least one when n >= 2)."""
    if fraction == 0:
        return items, []
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in sorted({label for _, label in items}):
        members = [item for item in items if item[1] == label]
        order = rng.permutation(len(members))
        n_val = max(1, round(fraction * len(members))) if len(members) >= 2 else 0
        val += [members[i] for i in sorted(order[:n_val])]
        train += [members[i] for i in sorted(order[n_val:])]
    return train, val


def _decoder(size):
    def decode(item):
        path, label = item
        return decode_resized(path, size), np.int32(label)
    return decode


def _decode(items, decode, size, scan: ClassificationScan, memory_budget, cache_dir):
    groups = [scan.groups[path] for path, _ in items]
    spec = [((*size, 3), np.uint8), ((), np.int32)]
    key = files_key("classification", size, paths=[p for p, _ in items])
    return decode_items(items, decode, spec, scan.report, groups,
                        memory_budget=memory_budget, cache_dir=cache_dir, cache_key=key)
