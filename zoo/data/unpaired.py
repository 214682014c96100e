"""Unpaired images for CycleGAN: two domains, A and B, each with train and test.

Sources:

    FOLDER/trainA/ FOLDER/trainB/ [FOLDER/testA/ FOLDER/testB/]   (CycleGAN layout)
    FOLDER/A/ FOLDER/B/                                           (test held out)
    "tfds:cycle_gan/horse2zebra" and its siblings (splits trainA ... testB)
    an embedded name: "color2sepia", "rgb2bgr" (see zoo.data.embedded, whose
    `ground_truth(name)` gives the true A->B mapping)

Domain folders are searched recursively. A missing domain (trainA without
trainB, testA without testB), or a domain without usable images, is a
DataError. Without testA/ and testB/, `test_split` of each domain is held out.
"""

from __future__ import annotations

import collections
import dataclasses
import os

import numpy as np

from zoo.data import embedded, tfds_source
from zoo.data.augment import gan_augment
from zoo.data.images import decode_resized
from zoo.data.pipeline import Decoded, decode_items
from zoo.data.report import DataReport
from zoo.data.scan import list_files, list_subfolders, probe_files
from zoo.data.sources import as_size, files_key, hold_out, resolve_source
from zoo.errors import DataError
from zoo.seed import DEFAULT_SEED

EXPECTED_LAYOUT = ("FOLDER/trainA/, FOLDER/trainB/ (and optionally FOLDER/testA/, "
                   "FOLDER/testB/) holding the images of domains A and B, or FOLDER/A/ and "
                   "FOLDER/B/")
DOMAINS = ("trainA", "trainB", "testA", "testB")


class UnpairedData(collections.namedtuple("UnpairedData",
                                          ["train_a", "train_b", "test_a", "test_b"])):
    """Four tf.data.Datasets of uint8 (batch, h, w, 3) image batches. The test
    sets are neither augmented nor shuffled; either may be None when a domain
    has too few images to hold any out."""


@dataclasses.dataclass
class UnpairedScan:
    """Usable images per domain folder ("trainA", "trainB", maybe "testA", "testB").

    Args:
        domains: domain name -> image paths.
        report: counts per domain, skipped files, notes.
    """

    domains: dict[str, list[str]]
    report: DataReport


def scan_unpaired(root: str) -> UnpairedScan:
    """Find the usable images of both domains without decoding them.

    Args:
        root: the folder.

    Raises:
        DataError: a missing or empty domain, or a folder of another layout.
    """
    report = DataReport(root=root, kind="unpaired")
    top = list_subfolders(root, report)
    if any(name in top for name in DOMAINS):
        report.layout = "trainA/ trainB/ testA/ testB/ folders"
        names = {name: name for name in DOMAINS if name in top}
        for train, test in (("trainA", "trainB"), ("testA", "testB")):
            if (train in names) != (test in names):
                have, lack = (train, test) if train in names else (test, train)
                raise DataError(f"{root} has {have}/ but no {lack}/: domain "
                                f"{lack[-1]} is missing. Expected layout: {EXPECTED_LAYOUT}.")
        if "trainA" not in names:
            raise DataError(f"{root} has testA/ and testB/ but no trainA/ and trainB/. "
                            f"Expected layout: {EXPECTED_LAYOUT}.")
    elif "A" in top or "B" in top:
        report.layout = "A/ and B/ folders"
        if not ("A" in top and "B" in top):
            raise DataError(f"{root} has {'A' if 'A' in top else 'B'}/ but not "
                            f"{'B' if 'A' in top else 'A'}/: a domain is missing. "
                            f"Expected layout: {EXPECTED_LAYOUT}.")
        names = {"trainA": "A", "trainB": "B"}
    else:
        found = f"subfolders {', '.join(top)}" if top else "no subfolders"
        raise DataError(f"{root} is not an unpaired layout (found {found}). "
                        f"Expected layout: {EXPECTED_LAYOUT}.")
    for name in top:
        if name not in names.values():
            report.note(f"subfolder '{name}' ignored (not a domain folder)")

    domains = {}
    for domain, folder in names.items():
        usable = probe_files(list_files(os.path.join(root, folder), report), report)
        if not usable:
            raise DataError(f"Domain folder {os.path.join(root, folder)} has no usable images "
                            f"(skipped {len(report.skipped)} files so far). Expected layout: "
                            f"{EXPECTED_LAYOUT}.")
        domains[domain] = [path for path, _ in usable]
        report.counts[folder] = len(usable)
        report.sizes.update(usable)
    return UnpairedScan(domains, report)


def load_unpaired(source, image_size, batch_size: int = 1, *, augment: bool = True,
                  test_split: float = 0.1, seed: int = DEFAULT_SEED, shuffle: bool = True,
                  data_dir: str | None = None, download: bool = True,
                  memory_budget: int | None = None,
                  cache_dir: str | None = None) -> UnpairedData:
    """The two image domains of an unpaired (CycleGAN) data set.

    Args:
        source: a folder, "tfds:cycle_gan/NAME", or an embedded name; see the
            module doc.
        image_size: int, or (height, width).
        batch_size: images per batch (the CycleGAN paper uses 1).
        augment: apply `gan_augment` (jitter and flip) to the training images.
        test_split: share of each domain held out when there are no test
            folders (folders only).
        seed: seed of that hold-out, the shuffling and the augmentation.
        shuffle: reshuffle the training images every epoch.
        data_dir: TFDS data dir.
        download: TFDS only: download a data set that is not prepared yet.
        memory_budget: bytes of decoded images kept in memory per domain.
        cache_dir: where larger data is cached.

    Returns:
        UnpairedData(train_a, train_b, test_a, test_b).

    Raises:
        DataError: the source cannot be used; the message says why.
    """
    size = as_size(image_size)
    kind, ref = resolve_source(source, embedded.EMBEDDED_UNPAIRED, "unpaired")
    jitter = (lambda image: gan_augment(image, seed=seed)) if augment else None

    def train_and_test(train: Decoded, test: Decoded | None):
        return (train.batches(batch_size, shuffle=shuffle, seed=seed, augment=jitter),
                test.batches(batch_size, shuffle=False, seed=None) if test else None)

    if kind == "tfds":
        return _from_tfds(ref, size, batch_size, jitter, shuffle, seed, data_dir, download,
                          memory_budget, cache_dir)
    if kind == "embedded":
        train_a, train_b = embedded.unpaired_arrays(ref, "train", size)
        test_a, test_b = embedded.unpaired_arrays(ref, "test", size)
        a = train_and_test(Decoded(arrays=(train_a,)), Decoded(arrays=(test_a,)))
        b = train_and_test(Decoded(arrays=(train_b,)), Decoded(arrays=(test_b,)))
        return UnpairedData(a[0], b[0], a[1], b[1])

    scan = scan_unpaired(ref)
    report, domains = scan.report, dict(scan.domains)
    groups = {d: [domain_group(scan, d)] * len(p) for d, p in domains.items()}
    for side in "AB":
        if f"test{side}" not in domains:
            kept, held = hold_out(domains[f"train{side}"], test_split, seed)
            domains[f"train{side}"], domains[f"test{side}"] = kept, held
            name = domain_group(scan, f"train{side}")
            report.counts[name] = len(kept)
            report.counts[f"{name} (held out for test)"] = len(held)
            groups[f"train{side}"] = [name] * len(kept)
            groups[f"test{side}"] = [f"{name} (held out for test)"] * len(held)
    decoded = {d: _decode(domains[d], groups[d], size, report, memory_budget, cache_dir)
               if domains[d] else None for d in DOMAINS}
    report.log()
    a = train_and_test(decoded["trainA"], decoded["testA"])
    b = train_and_test(decoded["trainB"], decoded["testB"])
    return UnpairedData(a[0], b[0], a[1], b[1])


def domain_group(scan: UnpairedScan, domain: str) -> str:
    """The report group (folder name) of a domain: trainA, or A in the A/ B/ layout."""
    return domain if domain in scan.report.counts else domain[-1]


def _decode(paths, groups, size, report, memory_budget, cache_dir) -> Decoded:
    return decode_items(paths, lambda path: (decode_resized(path, size),),
                        [((*size, 3), np.uint8)], report, groups,
                        memory_budget=memory_budget, cache_dir=cache_dir,
                        cache_key=files_key("unpaired", size, paths=paths))


def _from_tfds(name, size, batch_size, jitter, shuffle, seed, data_dir, download,
               memory_budget, cache_dir) -> UnpairedData:
    splits, builder = tfds_source.unpaired_images(name, size, data_dir=data_dir,
                                                  download=download)
    out = {split: tfds_source.cache_and_batch(
        dataset, builder, split, name, size, batch_size,
        shuffle=shuffle and split.startswith("train"), seed=seed,
        augment=jitter if split.startswith("train") else None,
        memory_budget=memory_budget, cache_dir=cache_dir)
        for split, dataset in splits.items()}
    return UnpairedData(out["trainA"], out["trainB"], out["testA"], out["testB"])
