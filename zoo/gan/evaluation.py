"""Score an image-to-image translator on paired data, and put scores side by side.

    >>> model_scores = paired_scores(translate, val_pairs, limit=500)
    >>> baseline = input_baseline(val_pairs, limit=500)
    >>> print(comparison_table({"pix2pix": model_scores, "input as output": baseline}))

`translate` is any function from a uint8 batch of inputs (N, H, W, 3) to
uint8 outputs of the same shape, e.g. a generator wrapped in `from_uint8`
and `to_uint8`. The input baseline answers "is the model better than doing
nothing?": the same scores for the input itself taken as the output.

The paired scores are means over images of `zoo.gan.metrics` (on the [0, 1]
scale). With an `extractor` (see `zoo.gan.distribution`) FID and KID of the
outputs against the targets are added; with `realism=True`, the classifier
two-sample accuracy and the spectral distance (`zoo.gan.realism`), which
need no pretrained network.
"""

from __future__ import annotations

import math

import numpy as np

from zoo.gan.distribution import feature_scores
from zoo.gan.metrics import l1, psnr, ssim
from zoo.gan.realism import realism_scores
from zoo.gan.uint8 import check_uint8_batch
from zoo.text import format_table

PAIRED = {"l1": l1, "psnr": psnr, "ssim": ssim}
REALISM_MIN_IMAGES = 4

# Column header and number format of each score comparison_table knows, in order.
COLUMNS = {
    "l1": ("L1 (lower better)", ".4f"),
    "psnr": ("PSNR dB (higher better)", ".2f"),
    "ssim": ("SSIM (higher better)", ".4f"),
    "fid": ("FID (lower better)", ".2f"),
    "kid": ("KID (lower better)", ".4f"),
    "c2st": ("real-vs-output accuracy (0.5 best)", ".3f"),
    "spectral": ("spectral distance (lower better)", ".3f"),
}


def paired_scores(translate, pairs, limit: int | None = None, extractor=None,
                  realism: bool = False) -> dict:
    """Mean L1, PSNR and SSIM of `translate(A)` against `B` over paired batches.

    Args:
        translate: uint8 batch (N, H, W, 3) -> uint8 batch of the same shape.
        pairs: a `tf.data.Dataset` or any iterable of `(A, B)` uint8 batches.
        limit: score at most this many images (the first ones); None for all.
        extractor: optional uint8 images -> (N, D) features; adds `"fid"` and
            `"kid"` of the outputs against the targets (needs >= 2 images).
        realism: add `"c2st"` and `"spectral"` of the outputs against the
            targets (`zoo.gan.realism.realism_scores`), when there are at
            least REALISM_MIN_IMAGES images (its two halves need two each).

    Returns:
        `{"l1", "psnr", "ssim", "images"}` (+ `"fid"`, `"kid"`, `"c2st"`,
        `"spectral"`): float means, and the number of images scored. PSNR is
        `inf` when every output equals its target.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ValueError(f"limit must be a positive integer or None. Received: limit={limit!r}")
    sums = dict.fromkeys(PAIRED, 0.0)
    count = 0
    real_features, fake_features = [], []
    kept_targets, kept_outputs = [], []
    for index, (inputs, targets) in enumerate(_pairs(pairs)):
        if limit is not None:
            inputs, targets = inputs[:limit - count], targets[:limit - count]
        outputs = _uint8_batch(translate(inputs), f"translate() output for batch {index}")
        if outputs.shape != targets.shape:
            raise ValueError(f"translate() must return images shaped like the targets. "
                             f"Batch {index}: outputs {outputs.shape}, targets {targets.shape}")
        for name, score in PAIRED.items():
            sums[name] += float(np.sum(score(outputs, targets).numpy()))
        if extractor is not None:
            real_features.append(np.asarray(extractor(targets)))
            fake_features.append(np.asarray(extractor(outputs)))
        if realism:
            kept_targets.append(targets)
            kept_outputs.append(outputs)
        count += len(targets)
        if limit is not None and count >= limit:
            break
    if count == 0:
        raise ValueError("pairs yielded no images; pass a non-empty dataset of (A, B) batches.")
    scores = {name: total / count for name, total in sums.items()}
    scores["images"] = count
    if extractor is not None:
        scores.update(feature_scores(np.concatenate(real_features),
                                     np.concatenate(fake_features)))
    if realism and count >= REALISM_MIN_IMAGES:
        scores.update(realism_scores(np.concatenate(kept_targets),
                                     np.concatenate(kept_outputs)))
    return scores


def input_baseline(pairs, limit: int | None = None, extractor=None,
                   realism: bool = False) -> dict:
    """The paired scores of the input itself as the output (A against B).

    A translator that does not beat this has learned nothing useful.
    Arguments and result as in `paired_scores`.
    """
    return paired_scores(_identity, pairs, limit=limit, extractor=extractor, realism=realism)


def score_rows(translators: dict, pairs, extractor=None, realism: bool = False
               ) -> dict[str, dict]:
    """Row name -> `paired_scores` of each translator on the same pairs; a
    translator of None is the input itself (`input_baseline`).

        rows = score_rows({"input (identity)": None, "pix2pix": translate}, test)

    With an extractor that remembers (`zoo.gan.distribution.remembering`),
    the targets' features are computed for the first row only.
    """
    return {name: input_baseline(pairs, extractor=extractor, realism=realism)
            if translate is None
            else paired_scores(translate, pairs, extractor=extractor, realism=realism)
            for name, translate in translators.items()}


def comparison_table(rows: dict[str, dict]) -> str:
    """A text table of scores, one row per name, e.g. a model and its baselines.

    Columns are L1, PSNR and SSIM, then FID, KID and the realism scores
    when any row has them;
    each header says whether lower or higher is better. A score a row lacks
    shows as "-".

    Args:
        rows: name -> scores as returned by `paired_scores`.
    """
    if not rows:
        raise ValueError("comparison_table needs at least one row of scores. Received: rows={}")
    keys = [key for key in COLUMNS if key in PAIRED or any(key in row for row in rows.values())]
    table = [[name, *(_cell(scores.get(key), COLUMNS[key][1]) for key in keys)]
             for name, scores in rows.items()]
    headers = ["", *(COLUMNS[key][0] for key in keys)]
    return format_table(table, headers, align="l" + "r" * len(keys))


def _cell(value, number_format) -> str:
    if value is None:
        return "-"
    value = float(value)
    return str(value) if math.isinf(value) or math.isnan(value) else format(value, number_format)


def _identity(images):
    return images


def _pairs(pairs):
    for index, item in enumerate(pairs):
        try:
            inputs, targets = item
        except (TypeError, ValueError):
            raise ValueError(f"pairs must yield (A, B) batches. Item {index} is "
                             f"{type(item).__name__}") from None
        yield (_uint8_batch(inputs, f"A of batch {index}"),
               _uint8_batch(targets, f"B of batch {index}"))


def _uint8_batch(images, what) -> np.ndarray:
    return check_uint8_batch(
        images, what, hint="Convert float outputs in [-1, 1] with zoo.gan.metrics.to_uint8.")
