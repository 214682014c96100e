"""zoo's data layer: images from your folders, TFDS, or sets embedded in zoo's
dependencies, as fast tf.data pipelines that survive messy folders.

Where things live:

    classification.py   load_classification, load_test, load_splits (class folders)
    pairs.py            load_pairs (Pix2Pix A|B pairs)
    unpaired.py         load_unpaired (CycleGAN domains)
    embedded.py         digits, faces, edges2photos, gray2color, color2sepia...
    tfds_source.py      "tfds:NAME" sources and their offline errors
    images.py           decoding one file safely (modes, EXIF, bombs...)
    image_files.py      the image files named by files and folders (predict, translate)
    scan.py             walking a folder (hidden files, symlinks...)
    report.py           what a scan found, printed by `zoo data check`
    check.py            check_folder and layout detection
    pipeline.py         decode in memory or stream, shuffle, batch, prefetch
    augment.py          gan_augment (jitter and flip of the GAN papers)
    sources.py          what a `source` argument means
    cli.py              the `zoo data` command
"""

from zoo.data.augment import gan_augment
from zoo.data.check import check_folder, detect_kind
from zoo.data.classification import (
    ClassificationSplits,
    load_classification,
    load_splits,
    load_test,
)
from zoo.data.embedded import EMBEDDED, ground_truth, inverse_ground_truth
from zoo.data.pairs import PairedData, load_pairs
from zoo.data.report import DataReport
from zoo.data.unpaired import UnpairedData, load_unpaired

__all__ = [
    "ClassificationSplits",
    "DataReport",
    "EMBEDDED",
    "PairedData",
    "UnpairedData",
    "check_folder",
    "detect_kind",
    "gan_augment",
    "ground_truth",
    "inverse_ground_truth",
    "load_classification",
    "load_pairs",
    "load_splits",
    "load_test",
    "load_unpaired",
]
