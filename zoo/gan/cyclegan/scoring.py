"""CycleGAN scored where the true mapping is known: each direction beside
doing nothing (identity) and beside the same generator trained on the true
pairs (the upper bound), with the results page and the run's description.

On the embedded domains (rgb2bgr, color2sepia) the true translation of every
held-out image is known, so a CycleGAN run can be scored as a paired model
is. On a user's folder it is not: only the sample grids and the cycle scores
then show the run.
"""

from __future__ import annotations

import numpy as np

from zoo.gan.evaluation import comparison_table, score_rows
from zoo.gan.run_record import description, first_images, score_metrics

MODEL_ROW = "CycleGAN"
DIRECTION_NAMES = {"AtoB": "A -> B", "BtoA": "B -> A"}
NO_TRUTH = ("No true mapping is known for this data: the sample grids and the cycle "
            "scores show the run.")


def true_mappings(source: str) -> dict:
    """{"AtoB": truth or None, "BtoA": truth or None} for a data source."""
    from zoo.data import EMBEDDED, ground_truth, inverse_ground_truth

    if EMBEDDED.get(source) != "unpaired":
        return {"AtoB": None, "BtoA": None}
    return {"AtoB": ground_truth(source), "BtoA": inverse_ground_truth(source)}


def with_truth(images, truth) -> list:
    """(image, true translation) uint8 batches of a dataset of images."""
    return [(batch, np.asarray(truth(batch), np.uint8)) for batch in images.as_numpy_iterator()]


def score_directions(test_images: dict, translators: dict, upper: dict, truth: dict,
                     extractor=None) -> dict:
    """Direction -> rows of held-out scores, for each direction with a known truth.

    Args:
        test_images: direction -> the held-out images it translates.
        translators: direction -> uint8 batch -> uint8 batch (the saved generator).
        upper: direction -> the upper bound's translator, where one was trained.
        truth: what `true_mappings` returned.
    """
    scored = {}
    for direction, images in test_images.items():
        if truth[direction] is None:
            continue
        rows = {"identity": None, MODEL_ROW: translators[direction]}
        if direction in upper:
            rows["paired (upper bound)"] = upper[direction]
        scored[direction] = score_rows(rows, with_truth(images, truth[direction]), extractor)
    return scored


def scores_text(scored: dict) -> str:
    """Each direction's comparison table, or why there is none."""
    return "\n\n".join(
        f"{DIRECTION_NAMES[direction]}, against the true mapping "
        f"({rows[MODEL_ROW]['images']} images):\n{comparison_table(rows)}"
        for direction, rows in scored.items()) or NO_TRUTH


def direction_metrics(scored: dict) -> dict:
    """`test/AtoB/psnr`, `test/AtoB/identity_psnr`... for every scored direction."""
    metrics = {}
    for direction, rows in scored.items():
        metrics.update(score_metrics(rows, MODEL_ROW, split=f"test/{direction}"))
    return metrics


def page_rows(test_images: dict, translators: dict, truth: dict, count: int) -> list:
    """[input, translation, true translation (white when unknown), back again]
    for `count` images, half of each domain."""
    rows = []
    for direction, back in (("AtoB", "BtoA"), ("BtoA", "AtoB")):
        batch = first_images(test_images[direction], count // 2)
        moved = translators[direction](batch)
        returned = translators[back](moved)
        known = (truth[direction](batch) if truth[direction] is not None
                 else np.full_like(batch, 255))
        rows += [[batch[i], moved[i], np.asarray(known[i], np.uint8), returned[i]]
                 for i in range(len(batch))]
    return rows


def run_description(title: str, facts: list[str], scored: dict, model_lines: list[str]) -> str:
    """The markdown at the top of the run page: one table per scored direction."""
    if not scored:
        return "\n".join([title, ""] + [f"- {line}" for line in facts + model_lines]) + "\n"
    last = len(scored) - 1
    return "\n".join(
        description(f"{title}, {DIRECTION_NAMES[direction]}", rows, MODEL_ROW,
                    facts=facts if index == 0 else (),
                    model_lines=model_lines if index == last else (), against=["identity"])
        for index, (direction, rows) in enumerate(scored.items()))
