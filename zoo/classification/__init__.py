"""Image classifiers: build, cut into parts, evaluate, plot, predict.

Where things live, one job per file:

    classifier.py      create_classifier(), create_backbone(), apply_head(),
                       unfreeze_last_blocks(); cutting a classifier into its
                       feature extractor and head (feature_extractor, head_model)
    evaluation.py      accuracy, top-k, per-class scores, misclassified examples
    plots.py           confusion matrix, learning curves, misclassified grid
    reports.py         what a classifier run logs to MLflow: per-epoch and final
                       scores, per-class tables, plots, the run description
    model_io.py        loading a saved classifier and its class_names.json
    image_files.py     the image files named by files and folders
    predict.py         predict_paths(): batching and top-k
    prediction_csv.py  predictions as path,rank,label,probability rows
    predict_cli.py     the `zoo predict` command
    errors.py          PredictError

Importing zoo.classification imports neither TensorFlow nor Keras; the
names below load their module on first use.
"""

from zoo._lazy import lazy_attributes

_LAZY = {
    "apply_head": "zoo.classification.classifier",
    "create_backbone": "zoo.classification.classifier",
    "create_classifier": "zoo.classification.classifier",
    "feature_extractor": "zoo.classification.classifier",
    "get_backbone": "zoo.classification.classifier",
    "head_model": "zoo.classification.classifier",
    "unfreeze_last_blocks": "zoo.classification.classifier",
    "evaluate_classifier": "zoo.classification.evaluation",
    "load_model_and_class_names": "zoo.classification.model_io",
    "Prediction": "zoo.classification.predict",
    "predict_paths": "zoo.classification.predict",
}

__getattr__, __dir__ = lazy_attributes("zoo.classification", globals(), _LAZY)

__all__ = list(_LAZY)
