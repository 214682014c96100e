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
SCORES = ("l1", "psnr", "ssim", "fid", "kid")


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
                model_lines=()) -> str:
    """A short markdown summary for the top of the run page: the model's
    held-out scores against each baseline."""
    lines = [title, ""] + [f"- {fact}" for fact in facts] + [""]
    lines += ["| | L1 (lower better) | PSNR dB | SSIM |", "|---|---|---|---|"]
    for row, scores in rows.items():
        name = f"**{row}**" if row == model_row else row
        lines.append(f"| {name} | {scores['l1']:.4f} | {scores['psnr']:.2f} | "
                     f"{scores['ssim']:.3f} |")
    verdict = beats(rows, model_row)
    lines += ["", f"{model_row} {'beats' if verdict else 'does NOT beat'} every baseline "
              f"on held-out PSNR."] if len(rows) > 1 else []
    return "\n".join(lines + [""] + [f"- {line}" for line in model_lines]).strip() + "\n"


def beats(rows: Mapping[str, Mapping], model_row: str, score: str = "psnr") -> bool:
    """Whether the model's held-out score is above every baseline's."""
    mine = rows[model_row][score]
    return all(mine > scores[score] for row, scores in rows.items() if row != model_row)
