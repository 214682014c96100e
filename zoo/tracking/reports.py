"""Evaluation reports and training curves into the active MLflow run.

Final scores go under their own names (`final_val_accuracy`,
`final_test_f1.cat`, ...) rather than at another step of the per-epoch
metrics, so the learning curves stay one point per epoch, and the registry
compares models on `final_val_accuracy`.
"""

from __future__ import annotations

import json

from zoo.tracking.artifacts import log_plot


def log_evaluation(report, split: str) -> None:
    """Scores, confusion matrix and misclassified images of one split."""
    import mlflow

    from zoo.classification.plots import confusion_matrix_figure, misclassified_grid_figure

    mlflow.log_metrics(report.metrics(prefix=f"final_{split}_"))
    mlflow.log_text(json.dumps(report.to_dict(), indent=1), f"evaluation/{split}.json")
    mlflow.log_text(report.format(), f"evaluation/{split}.txt")
    log_plot(confusion_matrix_figure(report.confusion, report.class_names),
             f"confusion_matrix_{split}.png")
    log_plot(misclassified_grid_figure(report.misclassified, report.class_names),
             f"misclassified_{split}.png")


def log_learning_curves(result) -> None:
    """Loss and accuracy per epoch, both phases, the phase boundary marked."""
    from zoo.classification.plots import learning_curves_figure

    boundaries = [result.phase_boundary] if result.phase_boundary else []
    log_plot(learning_curves_figure(result.history, phase_boundaries=boundaries),
             "learning_curves.png")
