"""Evaluation reports, learning curves and the run's description, into the
active MLflow run, named so that the run page reads from the top.

MLflow 3.17's run page ("Model metrics") draws one chart per metric and
groups the charts in sections by the part of the name before the last `/`.
The named sections come first, in alphabetical order, and the metrics with
no `/` come last, in a section titled "Model metrics"; inside a section the
charts are in alphabetical order (`RunsChartsCardConfig.
getBaseChartAndSectionConfigs` in MLflow's JavaScript). So zoo names them:

    epoch/loss, epoch/accuracy, epoch/val_loss, ...   the learning curves, first
    test/accuracy, test/top_5_accuracy, test/macro_f1,
    test/majority_class_accuracy, test/logistic_accuracy   final scores, one bar each
    val/accuracy, ...                                  the same on validation
    lr, phase                                          the schedule, last

Final scores have names of their own rather than another step of the
per-epoch metrics, so the curves stay one point per epoch, and the registry
compares models on `val/accuracy`. Only headline scores are metrics;
per-class precision, recall and F1 are a table (`evaluation/<split>_per_class.json`,
shown by the UI as a table), not dozens of one-bar charts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from zoo.tracking.artifacts import log_plot

# "zoo.warning.<split>": why the model evaluated on that split is not to be trusted.
WARNING_TAG_PREFIX = "zoo.warning."
# How a split's short name reads in a sentence.
_SPLIT_NAMES = {"val": "validation"}


def headline_metrics(report, split: str, baselines: Mapping | None = None) -> dict:
    """The scores worth a chart: accuracy, top-k, macro F1 and the baselines.

    Args:
        report: a zoo.classification.evaluation.EvaluationReport.
        split: "val" or "test"; the metrics' section.
        baselines: what zoo.classification.baselines.baselines returned for that split.
    """
    values = {f"{split}/accuracy": float(report.accuracy)}
    if report.top_k is not None:
        values[f"{split}/top_{report.top_k}_accuracy"] = float(report.top_k_accuracy)
    values[f"{split}/macro_f1"] = float(report.macro_f1)
    if baselines:
        values[f"{split}/majority_class_accuracy"] = float(baselines["majority_class_accuracy"])
        values[f"{split}/logistic_accuracy"] = float(baselines["logistic_accuracy"])
    return values


def per_class_table(report) -> dict:
    """Precision, recall, F1 and support per class, as columns for mlflow.log_table."""
    return {
        "class": list(report.class_names),
        "precision": [float(v) for v in report.precision],
        "recall": [float(v) for v in report.recall],
        "f1": [float(v) for v in report.f1],
        "support": [int(v) for v in report.support],
    }


def log_evaluation(report, split: str, baselines: Mapping | None = None,
                   with_metrics: bool = True) -> str | None:
    """Scores, per-class table, confusion matrix and misclassified images of one split.

    Args:
        report: a zoo.classification.evaluation.EvaluationReport.
        split: "val" or "test".
        baselines: what zoo.classification.baselines.baselines returned for that split;
            when the model does not beat its majority class, the run gets the
            tag `zoo.warning.<split>` saying so.
        with_metrics: also log the headline scores (`headline_metrics`);
            False when the caller sends them its own way, e.g. through a
            zoo.tracking.spool.MetricSpool that keeps them while the server is away.

    Returns:
        That warning, or None.
    """
    import mlflow

    from zoo.classification.baselines import baseline_warning, format_baselines
    from zoo.classification.plots import confusion_matrix_figure, misclassified_grid_figure

    if with_metrics:
        mlflow.log_metrics(headline_metrics(report, split, baselines))
    _log_table(per_class_table(report), f"evaluation/{split}_per_class.json")
    record = report.to_dict()
    text = report.format()
    warning = None
    if baselines:
        record["baselines"] = dict(baselines)
        split_name = _SPLIT_NAMES.get(split, split)
        text += "\n\n" + format_baselines(report.accuracy, baselines, report.class_names,
                                          split_name)
        warning = baseline_warning(report.accuracy, baselines, split_name)
        if warning:
            mlflow.set_tag(f"{WARNING_TAG_PREFIX}{split}", warning)
    mlflow.log_text(json.dumps(record, indent=1), f"evaluation/{split}.json")
    mlflow.log_text(text, f"evaluation/{split}.txt")
    log_plot(confusion_matrix_figure(report.confusion, report.class_names),
             f"confusion_matrix_{split}.png")
    log_plot(misclassified_grid_figure(report.misclassified, report.class_names),
             f"misclassified_{split}.png")
    return warning


def _log_table(table: dict, artifact_file: str) -> None:
    """mlflow.log_table, except that a table the run already has is replaced.

    log_table appends to an existing table, so a resumed run that evaluates
    again (it crashed during the evaluation) would list every class twice.
    The replacement is written the way log_table writes (pandas' "split"
    layout), and the run already carries log_table's tag that marks it a table.
    """
    import posixpath

    import mlflow

    run_id = mlflow.active_run().info.run_id
    folder = posixpath.dirname(artifact_file) or None
    existing = {item.path for item in mlflow.MlflowClient().list_artifacts(run_id, folder)}
    if artifact_file not in existing:
        mlflow.log_table(table, artifact_file)
        return
    import pandas as pd

    mlflow.log_text(pd.DataFrame(table).to_json(orient="split", index=False), artifact_file)


def log_learning_curves(result) -> None:
    """Loss and accuracy per epoch, both phases, the phase boundary marked."""
    from zoo.classification.plots import learning_curves_figure

    boundaries = [result.phase_boundary] if result.phase_boundary else []
    log_plot(learning_curves_figure(result.history, phase_boundaries=boundaries),
             "learning_curves.png")


def weights_text(weights) -> str:
    """How a run's weights read on its page."""
    if weights == "imagenet":
        return "ImageNet"
    return "none (trained from scratch)" if weights is None else f"`{weights}`"


def run_description(title: str, report, split: str, baselines: Mapping | None = None,
                    facts=(), model_lines=()) -> str:
    """A short markdown summary for the top of the run page.

    Args:
        title: the first line, e.g. "**digits**: mobilenet_v3_small at 32 px".
        report: the EvaluationReport of the split to headline.
        split: its name, e.g. "test".
        baselines: what zoo.classification.baselines.baselines returned for that split.
        facts: more lines under the title (data size, weights...).
        model_lines: where the model is: file, MLflow URI, registered version.
    """
    split_name = _SPLIT_NAMES.get(split, split)
    lines = [title, ""]
    lines += [f"- {fact}" for fact in facts]
    if facts:
        lines.append("")
    lines += [f"| {split_name} split ({report.num_examples} images) | accuracy |", "|---|---|",
              f"| this model | **{report.accuracy:.4f}** |"]
    if baselines:
        from zoo.classification.baselines import baseline_warning

        majority = baselines["majority_class"]
        if 0 <= majority < len(report.class_names):
            majority = report.class_names[majority]
        lines += [f"| majority class (`{majority}`) | {baselines['majority_class_accuracy']:.4f} |",
                  f"| logistic regression on {baselines['logistic_input']} | "
                  f"{baselines['logistic_accuracy']:.4f} |"]
        warning = baseline_warning(report.accuracy, baselines, split_name)
        if warning:
            lines += ["", f"**Warning:** {warning}"]
    if model_lines:
        lines += ["", *(f"- {line}" for line in model_lines)]
    return "\n".join(lines)
