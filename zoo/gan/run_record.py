"""What an image-translation run shows in MLflow: sample grids per epoch,
held-out scores beside their baselines, the results page and the run's
description. Names follow `zoo.tracking.names`: per-epoch curves under
`epoch/`, final scores under `test/`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from zoo.files import atomic_file

SAMPLES_KEY = "samples"
# Held-out images in each epoch's sample grid (the UI's image slider).
SAMPLE_COUNT = 4
SCORES = ("l1", "psnr", "ssim", "fid", "kid", "c2st", "spectral")


def save_png(image: np.ndarray, path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as staging:
        Image.fromarray(image).save(staging, format="PNG")
    return path


class EpochSamples:
    """A grid of the same held-out examples after every epoch (input | output |
    target), kept as a PNG beside the checkpoints and logged with
    `mlflow.log_image(step=epoch)` so the UI's slider shows training progress.

    Args:
        sources, targets: uint8 (N, H, W, 3) held-out pairs.
        translate: uint8 batch -> uint8 batch.
        folder: where the PNGs go.
        log_image: `log_image(image, key, step)`; None keeps them on disk only.
    """

    def __init__(self, sources, targets, translate, folder, log_image=None):
        self.sources, self.targets = np.asarray(sources), np.asarray(targets)
        self.translate = translate
        self.folder = Path(folder)
        self.log_image = log_image

    def grid(self) -> np.ndarray:
        from zoo.gan.results_page import sample_grid

        return sample_grid([self.sources, np.asarray(self.translate(self.sources)), self.targets])

    def __call__(self, epoch: int) -> np.ndarray:
        grid = self.grid()
        save_png(grid, self.folder / f"epoch-{epoch + 1:04d}.png")
        if self.log_image is not None:
            self.log_image(grid, SAMPLES_KEY, epoch)
        return grid


class CycleSamples(EpochSamples):
    """The per-epoch grid of an unpaired translation: A | G(A) | F(G(A)) |
    B | F(B) | G(F(B)), one held-out example of each domain per row.

    Args:
        images_a, images_b: uint8 (N, H, W, 3) held-out images of each domain.
        forward, backward: G and F, uint8 batch -> uint8 batch.
        folder, log_image: as for `EpochSamples`.
    """

    def __init__(self, images_a, images_b, forward, backward, folder, log_image=None):
        super().__init__(images_a, images_b, forward, folder, log_image)
        self.backward = backward

    def grid(self) -> np.ndarray:
        from zoo.gan.results_page import sample_grid

        fake_b = np.asarray(self.translate(self.sources))
        fake_a = np.asarray(self.backward(self.targets))
        return sample_grid([self.sources, fake_b, np.asarray(self.backward(fake_b)),
                            self.targets, fake_a, np.asarray(self.translate(fake_a))])


class EpochImageLog:
    """`log_image(image, key, step)` for the per-epoch grids, through a run's
    `zoo.tracking.offline.BestEffort`, so a tracking server that is gone
    costs the grid, never the run."""

    def __init__(self, steps, mlflow):
        self.steps, self.mlflow = steps, mlflow

    def __call__(self, image, key, step):
        self.steps(f"sample grid of epoch {step + 1}", self.mlflow.log_image, image, key=key,
                   step=step)


def score_metrics(rows: Mapping[str, Mapping], model_row: str, split: str = "test") -> dict:
    """The final scores as metrics: the model's as `test/psnr`..., each
    baseline's as `test/<baseline>_psnr`... (e.g. `test/input_psnr`)."""
    metrics = {}
    for row, scores in rows.items():
        prefix = f"{split}/" if row == model_row else f"{split}/{_slug(row)}_"
        metrics.update({f"{prefix}{name}": float(scores[name])
                        for name in SCORES if name in scores and np.isfinite(scores[name])})
    return metrics


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def description(title: str, rows: Mapping[str, Mapping], model_row: str, facts=(),
                model_lines=(), against=None) -> str:
    """A short markdown summary for the top of the run page: the model's
    held-out scores beside each other row; the verdict is against the rows
    named in `against` (default: all others; an upper bound is not a
    baseline to beat)."""
    lines = [title, ""] + [f"- {fact}" for fact in facts] + [""]
    lines += ["| | L1 (lower better) | PSNR dB | SSIM |", "|---|---|---|---|"]
    for row, scores in rows.items():
        name = f"**{row}**" if row == model_row else row
        lines.append(f"| {name} | {scores['l1']:.4f} | {scores['psnr']:.2f} | "
                     f"{scores['ssim']:.3f} |")
    lines += ["", f"{verdict(rows, model_row, against)}."] if len(rows) > 1 else []
    return "\n".join(lines + [""] + [f"- {line}" for line in model_lines]).strip() + "\n"


def verdict(rows: Mapping[str, Mapping], model_row: str, against=None) -> str:
    """"pix2pix beats every baseline on held-out PSNR" (or "does NOT beat")."""
    named = " and ".join(against) if against else "every baseline"
    word = "beats" if beats(rows, model_row, against=against) else "does NOT beat"
    return f"{model_row} {word} {named} on held-out PSNR"


def print_verdict(rows: Mapping[str, Mapping], model_row: str, against=None,
                  label: str = "") -> None:
    """The verdict and every row's PSNR, as the last words of a run."""
    print(f"\n{label}{verdict(rows, model_row, against)}: "
          + ", ".join(f"{name} {scores['psnr']:.2f} dB" for name, scores in rows.items()))


def first_images(dataset, count: int = SAMPLE_COUNT) -> np.ndarray:
    """The first `count` images of a batched dataset of images, as one array."""
    return next(dataset.unbatch().batch(count).as_numpy_iterator())


def beats(rows: Mapping[str, Mapping], model_row: str, score: str = "psnr",
          against=None) -> bool:
    """Whether the model's held-out score is above every baseline's (or those
    of the rows named in `against`)."""
    mine = rows[model_row][score]
    return all(mine > scores[score] for row, scores in rows.items()
               if row != model_row and (against is None or row in against))
