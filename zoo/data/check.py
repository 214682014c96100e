"""`check_folder`: the report a loader would log, without loading for training.

It recognises the kind of layout (when not given), scans the folder like the
loader does, then decodes every kept image once (at reduced JPEG scale) so
truncated and corrupt files are found too.
"""

from __future__ import annotations

import concurrent.futures
import os

from zoo.data import classification, embedded, pairs, unpaired
from zoo.data.images import UnusableImage, load_rgb
from zoo.data.pipeline import decode_workers
from zoo.data.report import DataReport
from zoo.data.scan import skip_category
from zoo.errors import DataError

KINDS = ("classification", "pairs", "unpaired")
# Decoding at 1/8 scale still reads every byte of a JPEG, so truncation shows.
VALIDATION_DRAFT = (64, 64)


def detect_kind(root: str) -> str:
    """Guess the kind of a data folder from its subfolder names.

    trainA/ trainB/ testA/ testB/ -> unpaired; A/ and B/ (also inside train/)
    -> pairs; other subfolders -> classification (class folders, or train/
    of class folders); no subfolders, or train/ and test/ of plain images ->
    pairs (side-by-side A|B images).

    Args:
        root: an existing folder.
    """
    top = _visible_folders(root)
    if set(top) & set(unpaired.DOMAINS):
        return "unpaired"
    if "A" in top or "B" in top:
        return "pairs"
    if "train" in top:
        inner = _visible_folders(os.path.join(root, "train"))
        if "A" in inner or "B" in inner or not inner:
            return "pairs"
    return "classification" if top else "pairs"


def check_folder(source, kind: str | None = None) -> DataReport:
    """Scan a data folder (or an embedded set) and report what would be used.

    Args:
        source: a folder, or an embedded name such as "digits".
        kind: "classification", "pairs" or "unpaired"; detected when None.

    Returns:
        A DataReport: counts per class, split or domain, skipped files and
        why, notes, image size statistics. `format()` renders it.

    Raises:
        DataError: the folder cannot be used (the same errors as the loaders).
    """
    path = os.fspath(source)
    if kind is not None and kind not in KINDS:
        raise DataError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    if not os.path.isdir(path):
        if path in embedded.EMBEDDED:
            return _embedded_report(path)
        what = "is a file, not a folder" if os.path.exists(path) else "does not exist"
        raise DataError(f"{path} {what}. `zoo data check` takes a data folder or an embedded "
                        f"name ({', '.join(embedded.EMBEDDED)}).")
    kind = kind or detect_kind(path)
    if kind == "classification":
        scan = classification.scan_classification(path)
        entries = [((p,), scan.groups[p]) for items in scan.splits.values() for p, _ in items]
    elif kind == "pairs":
        scan = pairs.scan_pairs(path)
        entries = [(tuple(p for p in item if p), split)
                   for split, items in scan.splits.items() for item in items]
    else:
        scan = unpaired.scan_unpaired(path)
        entries = [((p,), unpaired.domain_group(scan, domain))
                   for domain, paths in scan.domains.items() for p in paths]
    _validate(entries, scan.report)
    return scan.report


def _validate(entries, report: DataReport) -> None:
    """Decode every kept file; record the ones that fail and uncount them."""
    def first_failure(files):
        for path in files:
            try:
                load_rgb(path, draft_size=VALIDATION_DRAFT)
            except UnusableImage as exc:
                return path, exc
        return None

    with concurrent.futures.ThreadPoolExecutor(decode_workers()) as pool:
        for (files, group), failure in zip(entries, pool.map(first_failure,
                                                             [f for f, _ in entries])):
            if failure:
                path, exc = failure
                report.skip(path, skip_category(str(exc)), str(exc))
                report.uncount(group)


def _embedded_report(name: str) -> DataReport:
    kind = embedded.EMBEDDED[name]
    report = DataReport(root=name, kind=kind, layout="embedded")
    size = (32, 32)
    if kind == "classification":
        for split in ("train", "val", "test"):
            images, labels, class_names = embedded.classification_arrays(name, split, size)
            for label, class_name in enumerate(class_names):
                report.counts[f"{split}/{class_name}"] = int((labels == label).sum())
        height, width = embedded.native_size(name)
        report.sizes = {str(i): (width, height) for i in range(sum(report.counts.values()))}
    else:
        arrays = embedded.pair_arrays if kind == "pairs" else embedded.unpaired_arrays
        for split in ("train", "test"):
            first, second = arrays(name, split, size)
            if kind == "pairs":
                report.counts[split] = len(first)
            else:
                report.counts[f"{split}A"], report.counts[f"{split}B"] = len(first), len(second)
        report.note("images are random crops of the photos, made at the requested size")
    return report


def _visible_folders(folder: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(folder)
                      if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
    except OSError:
        return []
