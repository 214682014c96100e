"""Paired images for Pix2Pix: (A, B) pairs from a folder or an embedded set.

Folder layouts (FOLDER may also hold train/ and test/ (or val/) folders, each
laid out like this, as the pix2pix "facades" download):

    FOLDER/<image>             side-by-side images, A on the left, B on the right
    FOLDER/A/<name>.<ext>      two folders; A/x.png pairs with B/x.jpg (matched by
    FOLDER/B/<name>.<ext>      file name without extension)

Side-by-side images of odd width are split at floor(w/2): A is the left
floor(w/2) columns, B the right floor(w/2) columns, and the middle column is
dropped. Images narrower than 2 pixels are skipped.

Names present in only one of A/ and B/ are skipped and listed in the report;
a name present twice on one side (x.png and x.jpg) is ambiguous and skipped.
No matching names at all is a DataError.

Without a test/ (or val/) folder, `test_split` of the pairs are held out.
"""

from __future__ import annotations

import collections
import dataclasses
import os

import numpy as np

from zoo.data import embedded
from zoo.data.augment import gan_augment
from zoo.data.images import load_rgb, resize_array
from zoo.data.pipeline import Decoded, decode_items
from zoo.data.report import DataReport
from zoo.data.scan import list_files, list_subfolders, probe_files
from zoo.data.sources import as_size, files_key, hold_out, resolve_source
from zoo.errors import DataError
from zoo.seed import DEFAULT_SEED

EXPECTED_LAYOUT = ("FOLDER/<image> of side-by-side A|B images, or FOLDER/A/<name> and "
                   "FOLDER/B/<name> with matching file names (either one optionally inside "
                   "FOLDER/train/ and FOLDER/test/)")
TEST_FOLDERS = ("test", "val")

# (A path, B path), or (side-by-side path, None).
PairItem = tuple[str, "str | None"]
# Which image is the input: the reference code's --direction.
DIRECTIONS = ("AtoB", "BtoA")


class PairedData(collections.namedtuple("PairedData", ["train", "test"])):
    """train, test: tf.data.Datasets of (A, B) batches, uint8 (batch, h, w, 3).
    test is None when there is nothing to test on."""


@dataclasses.dataclass
class PairScan:
    """Usable pairs of a folder, per split folder found ("train", "test").

    Args:
        splits: split name -> list of PairItem.
        report: counts per split, skipped files, notes.
    """

    splits: dict[str, list[PairItem]]
    report: DataReport


def scan_pairs(root: str) -> PairScan:
    """Find the usable pairs of a folder without decoding them.

    Args:
        root: the folder.

    Raises:
        DataError: no usable pairs, an A/ without B/, or no matching names.
    """
    report = DataReport(root=root, kind="pairs")
    top = list_subfolders(root, report)
    split_names = [n for n in ("train", *TEST_FOLDERS) if n in top]
    if "A" in top or "B" in top:
        report.layout = "A/ and B/ folders"
        splits = {"train": _scan_two_folders(root, top, report, "train")}
    elif split_names:
        splits = {}
        test_folder = next((n for n in TEST_FOLDERS if n in top), None)
        if "test" in top and "val" in top:
            report.note("val/ ignored: test/ is the test split")
        for split, name in (("train", "train"), ("test", test_folder)):
            if name not in top:
                continue
            if name != split:
                report.note(f"{name}/ is used as the test split")
            folder = os.path.join(root, name)
            sub = list_subfolders(folder, report)
            if "A" in sub or "B" in sub:
                report.layout = "train/test folders of A/ and B/ folders"
                splits[split] = _scan_two_folders(folder, sub, report, split)
            else:
                report.layout = "train/test folders of side-by-side A|B images"
                splits[split] = _scan_side_by_side(folder, report, split)
        if "train" not in splits:
            raise DataError(f"{root} has {test_folder}/ but no train/ folder. "
                            f"Expected layout: {EXPECTED_LAYOUT}.")
    else:
        report.layout = "side-by-side A|B images"
        for name in top:
            report.note(f"subfolder '{name}' ignored (side-by-side images are read from "
                        "the folder itself)")
        splits = {"train": _scan_side_by_side(root, report, "train")}
    if not any(splits.values()):
        found = f"subfolders {', '.join(top)}" if top else "no subfolders"
        raise DataError(f"No usable image pairs in {root} (found {found}, skipped "
                        f"{len(report.skipped)} files). Expected layout: {EXPECTED_LAYOUT}.")
    return PairScan(splits, report)


def load_pairs(source, image_size, batch_size: int = 1, *, augment: bool = True,
               test_split: float = 0.1, seed: int = DEFAULT_SEED, shuffle: bool = True,
               memory_budget: int | None = None, cache_dir: str | None = None,
               direction: str = "AtoB") -> PairedData:
    """(A, B) image pairs for Pix2Pix, train and test.

    Args:
        source: a folder (see the module doc) or an embedded name
            ("edges2photos", "gray2color").
        image_size: int, or (height, width) of both A and B.
        batch_size: pairs per batch (the Pix2Pix paper uses 1).
        augment: apply `gan_augment` (jitter and flip, same for A and B) to
            the training pairs.
        test_split: share of the pairs held out when the folder has no test/
            or val/ folder.
        seed: seed of that hold-out, the shuffling and the augmentation.
        shuffle: reshuffle the training pairs every epoch.
        memory_budget: bytes of decoded pairs kept in memory per split.
        cache_dir: where larger data is cached.
        direction: "AtoB", or "BtoA" to translate the other way (B is then
            the input), as the reference code's `--direction`.

    Returns:
        PairedData(train, test) of (A, B) uint8 batches; test is never
        augmented or shuffled, and None when no pair is left for it.

    Raises:
        DataError: the source cannot be used; the message says why.
    """
    if direction not in DIRECTIONS:
        raise DataError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}.")
    size = as_size(image_size)
    kind, ref = resolve_source(source, embedded.EMBEDDED_PAIRS, "pairs")
    if kind == "tfds":
        raise DataError(f"'tfds:{ref}': TFDS has no paired-image format zoo can read. Use a "
                        f"folder ({EXPECTED_LAYOUT}) or an embedded set: "
                        f"{', '.join(embedded.EMBEDDED_PAIRS)}.")
    if kind == "embedded":
        train = Decoded(arrays=embedded.pair_arrays(ref, "train", size))
        test = Decoded(arrays=embedded.pair_arrays(ref, "test", size))
    else:
        scan = scan_pairs(ref)
        train_items = scan.splits["train"]
        test_items = scan.splits.get("test")
        groups = {"train": ["train"] * len(train_items)}
        if test_items is None:
            train_items, test_items = hold_out(train_items, test_split, seed)
            scan.report.counts["train"] = len(train_items)
            scan.report.counts["test (held out of train)"] = len(test_items)
            groups = {"train": ["train"] * len(train_items),
                      "test": ["test (held out of train)"] * len(test_items)}
        else:
            groups["test"] = ["test"] * len(test_items)
        train = _decode(train_items, groups["train"], size, scan.report, memory_budget, cache_dir)
        test = _decode(test_items, groups["test"], size, scan.report, memory_budget,
                       cache_dir) if test_items else None
        scan.report.log()

    jitter = (lambda a, b: gan_augment(a, b, seed=seed)) if augment else None
    train = train.batches(batch_size, shuffle=shuffle, seed=seed, augment=jitter)
    test = test.batches(batch_size, shuffle=False, seed=None) if test else None
    if direction == "BtoA":
        train, test = _swapped(train), _swapped(test) if test is not None else None
    return PairedData(train, test)


def _swapped(pairs):
    return pairs.map(lambda a, b: (b, a))


def decode_pair(item: PairItem, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Decode one pair to two uint8 (height, width, 3) arrays.

    Args:
        item: (A path, B path), or (side-by-side path, None).
        size: (height, width).
    """
    first, second = item
    if second is not None:
        draft = (size[1], size[0])
        return (resize_array(load_rgb(first, draft), size),
                resize_array(load_rgb(second, draft), size))
    image = load_rgb(first, draft_size=(2 * size[1], size[0]))
    width, height = image.size
    half = width // 2
    left = image.crop((0, 0, half, height))
    right = image.crop((width - half, 0, width, height))
    return resize_array(left, size), resize_array(right, size)


def _decode(items, groups, size, report, memory_budget, cache_dir) -> Decoded:
    spec = [((*size, 3), np.uint8), ((*size, 3), np.uint8)]
    paths = [p for item in items for p in item if p is not None]
    return decode_items(items, lambda item: decode_pair(item, size), spec, report, groups,
                        memory_budget=memory_budget, cache_dir=cache_dir,
                        cache_key=files_key("pairs", size, paths=paths))


def _scan_side_by_side(folder: str, report: DataReport, group: str) -> list[PairItem]:
    items = []
    for path, (width, height) in probe_files(list_files(folder, report, recursive=False), report):
        if width < 2:
            report.skip(path, "too narrow for A|B", f"{width}x{height} is too narrow to split "
                        "into side-by-side A|B halves")
            continue
        items.append((path, None))
        report.sizes[path] = (width, height)
    report.counts[group] = len(items)
    return items


def _scan_two_folders(root: str, subfolders: list[str], report: DataReport,
                      group: str) -> list[PairItem]:
    if "A" not in subfolders or "B" not in subfolders:
        have, lack = ("A", "B") if "A" in subfolders else ("B", "A")
        raise DataError(f"{root} has {have}/ but no {lack}/ folder. Expected layout: "
                        f"{EXPECTED_LAYOUT}.")
    side_a = _by_stem(os.path.join(root, "A"), report)
    side_b = _by_stem(os.path.join(root, "B"), report)
    for stems, other, side in ((side_a, side_b, "B"), (side_b, side_a, "A")):
        for stem in sorted(set(stems) - set(other)):
            report.skip(stems[stem][0], "unmatched name",
                        f"no usable file named '{stem}.*' in {side}/")
    matched = sorted(set(side_a) & set(side_b))
    if not matched and side_a and side_b:
        raise DataError(
            f"No file names match between {root}/A ({len(side_a)} images, e.g. "
            f"'{min(side_a)}') and {root}/B ({len(side_b)} images, e.g. '{min(side_b)}'). "
            "Pairs are matched by name without extension: A/0001.png with B/0001.jpg.")
    report.counts[group] = len(matched)
    for stem in matched:
        report.sizes.update([side_a[stem], side_b[stem]])
    return [(side_a[stem][0], side_b[stem][0]) for stem in matched]


def _by_stem(folder: str, report: DataReport) -> dict[str, tuple[str, tuple[int, int]]]:
    """name without extension -> (path, size); names used twice are skipped."""
    found: dict[str, list] = {}
    for path, size in probe_files(list_files(folder, report, recursive=False), report):
        found.setdefault(os.path.splitext(os.path.basename(path))[0], []).append((path, size))
    unique = {}
    for stem, entries in found.items():
        if len(entries) > 1:
            for path, _ in entries:
                report.skip(path, "ambiguous name", f"{len(entries)} files are named '{stem}.*'; "
                            "cannot tell which one is the pair")
        else:
            unique[stem] = entries[0]
    return unique
