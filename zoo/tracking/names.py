"""How zoo names what it logs, so that every family's run page reads from the top.

MLflow 3.17's run page ("Model metrics") draws one chart per metric and
groups the charts in sections by the part of the name before the last `/`.
The named sections come first, in alphabetical order, and the metrics with
no `/` come last; inside a section the charts are in alphabetical order
(`RunsChartsCardConfig.getBaseChartAndSectionConfigs` in MLflow's
JavaScript). So the per-epoch curves are `epoch/...` ("epoch" sorts before
"test" and "val"), final scores are `test/...` and `val/...`, and the
schedule (`lr`, `phase`) has no section and comes last.
"""

from __future__ import annotations

from collections.abc import Mapping

EPOCH_PREFIX = "epoch/"
SCHEDULE_KEYS = ("lr", "learning_rate", "phase")
DESCRIPTION_TAG = "mlflow.note.content"


def epoch_metrics(logs: Mapping, prefix: str = "") -> dict:
    """One epoch's values under the names the run page shows first.

    Args:
        logs: Keras's epoch logs, e.g. {"loss": 0.3, "val_accuracy": 0.9, "lr": 1e-3,
            "phase": 1} (a classifier's logs carry its training phase).
        prefix: put before each curve's name, after `epoch/`: a second model
            trained in the same run (a baseline) gets curves of its own.

    Returns:
        {"epoch/loss": 0.3, "epoch/val_accuracy": 0.9, "lr": 1e-3, "phase": 1}.
    """
    return {key if key in SCHEDULE_KEYS and not prefix else f"{EPOCH_PREFIX}{prefix}{key}":
            value for key, value in logs.items()}


def epoch_metric_name(key: str) -> str:
    """The name an epoch's `key` is logged under, e.g. "val_accuracy" ->
    "epoch/val_accuracy" (what a search reads back from its trials' runs)."""
    return next(iter(epoch_metrics({key: None})))


def set_run_description(markdown: str) -> None:
    """Show `markdown` as the active run's description (its `mlflow.note.content` tag)."""
    import mlflow

    mlflow.set_tag(DESCRIPTION_TAG, markdown)
