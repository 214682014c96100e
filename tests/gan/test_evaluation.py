"""paired_scores, input_baseline and comparison_table over uint8 pairs."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.gan.distribution import pixel_projection_extractor
from zoo.gan.evaluation import comparison_table, input_baseline, paired_scores
from zoo.gan.metrics import l1, psnr, ssim

from tolerances import FLOAT32_RTOL

# Compares float32 results of different computations: see tests/tolerances.py.
pytestmark = pytest.mark.numerics


def _pairs(count=10, batch=4, seed=0):
    """Targets, and inputs that are the targets plus noise."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 256, (count, 16, 16, 3), dtype=np.uint8)
    inputs = np.clip(targets.astype(int) + rng.integers(-60, 61, targets.shape), 0, 255)
    return inputs.astype(np.uint8), targets, batch


def _dataset(inputs, targets, batch):
    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch)


def test_scores_are_means_over_all_images_across_batches():
    inputs, targets, batch = _pairs()
    scores = paired_scores(lambda a: a, _dataset(inputs, targets, batch))
    assert scores["images"] == 10
    # Batched against whole: the kernels sum in another order. A mean of batch
    # means (4, 4, 2 images) would be off by far more than the tolerance.
    for name, metric in (("l1", l1), ("psnr", psnr), ("ssim", ssim)):
        assert scores[name] == pytest.approx(float(np.mean(metric(inputs, targets))),
                                             rel=FLOAT32_RTOL), name
    assert input_baseline(_dataset(inputs, targets, batch)) == scores


def test_a_better_translator_beats_the_input_baseline():
    inputs, targets, batch = _pairs()
    lookup = {a.tobytes(): t for a, t in zip(inputs, targets)}

    def nearly_right(batch_a):  # the target, off by one level
        return np.stack([np.clip(lookup[a.tobytes()].astype(int) + 1, 0, 255)
                         for a in batch_a]).astype(np.uint8)

    pairs = list(zip(np.split(inputs, [4, 8]), np.split(targets, [4, 8])))  # a plain iterable
    model = paired_scores(nearly_right, pairs)
    baseline = input_baseline(pairs)
    assert model["l1"] < baseline["l1"]
    assert model["psnr"] > baseline["psnr"] and model["ssim"] > baseline["ssim"]


def test_limit_counts_images_and_stops_early():
    inputs, targets, batch = _pairs()
    seen = []

    def translate(a):
        seen.append(len(a))
        return a

    scores = paired_scores(translate, _dataset(inputs, targets, batch), limit=6)
    assert scores["images"] == 6 and seen == [4, 2]
    assert scores["l1"] == pytest.approx(float(np.mean(l1(inputs[:6], targets[:6]))),
                                         rel=FLOAT32_RTOL)


def test_extractor_adds_fid_and_kid():
    inputs, targets, batch = _pairs(count=12)
    extractor = pixel_projection_extractor(dim=8, size=4)
    scores = paired_scores(lambda a: a, _dataset(inputs, targets, batch), extractor=extractor)
    assert {"fid", "kid"} <= set(scores) and scores["fid"] > 0
    identical = input_baseline(_dataset(targets, targets, batch), extractor=extractor)
    assert identical["fid"] == pytest.approx(0.0, abs=1e-6)
    assert np.isinf(identical["psnr"]) and identical["l1"] == 0.0


def test_bad_translator_output_and_empty_pairs_are_named():
    inputs, targets, batch = _pairs()
    with pytest.raises(ValueError, match="to_uint8"):
        paired_scores(lambda a: a / 127.5 - 1.0, _dataset(inputs, targets, batch))
    with pytest.raises(ValueError, match="shaped like the targets"):
        paired_scores(lambda a: a[:, :8], _dataset(inputs, targets, batch))
    with pytest.raises(ValueError, match="no images"):
        paired_scores(lambda a: a, [])
    with pytest.raises(ValueError, match=r"\(A, B\)"):
        paired_scores(lambda a: a, [inputs])
    with pytest.raises(ValueError, match="limit"):
        paired_scores(lambda a: a, [(inputs, targets)], limit=0)


def test_comparison_table():
    table = comparison_table({
        "pix2pix": {"l1": 0.12345, "psnr": 21.5, "ssim": 0.7, "fid": 41.25, "kid": 0.02,
                    "images": 100},
        "input as output": {"l1": 0.3, "psnr": float("inf"), "ssim": 0.5, "images": 100},
    })
    lines = table.splitlines()
    assert len(lines) == 4
    for header in ("L1 (lower better)", "PSNR dB (higher better)", "SSIM (higher better)",
                   "FID (lower better)", "KID (lower better)"):
        assert header in lines[0]
    assert "images" not in lines[0]
    assert lines[2].split() == ["pix2pix", "0.1235", "21.50", "0.7000", "41.25", "0.0200"]
    assert lines[3].split()[-5:] == ["0.3000", "inf", "0.5000", "-", "-"]
    plain = comparison_table({"a": {"l1": 0.1, "psnr": 20.0, "ssim": 0.5}})
    assert "FID" not in plain and "KID" not in plain
