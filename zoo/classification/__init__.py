"""Image classifiers: build, cut into parts, evaluate, plot, predict.

Where things live, one job per file:

    classifier.py      create_classifier(), build_classifier() (from a
                       ClassifierConfig), create_backbone(), apply_head(),
                       unfreeze_last_blocks(); cutting a classifier into its
                       feature extractor and head (feature_extractor, head_model)
    config.py          ClassifierConfig (the model, saved beside it), FitConfig
                       (how it trains), TrainConfig (both, flat)
    trainer.py         train_classifier(): phase 1 (head), phase 2 (fine-tuning),
                       on the shared TrainingLoop
    feature_cache.py   backbone features computed once, reused across epochs and runs
    heads.py           heads trained alone on cached features (head tuning)
    evaluation.py      accuracy, top-k, per-class scores, misclassified examples
    baselines.py       what a classifier has to beat: majority class, logistic
                       regression on downscaled pixels or given features
    plots.py           confusion matrix, learning curves, misclassified grid
    run_record.py      what a classifier run records in MLflow: final scores,
                       per-class tables, plots, the run description
    model_io.py        loading a saved classifier and its class_names.json
    predict.py         predict_paths(): batching and top-k
    prediction_csv.py  predictions as path,rank,label,probability rows
    cli.py             the `zoo predict` command

Importing zoo.classification imports neither TensorFlow nor Keras; the
names below load their module on first use.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.classification.classifier import (  # noqa: F401
        apply_head,
        build_classifier,
        create_backbone,
        create_classifier,
        feature_extractor,
        get_backbone,
        head_model,
        unfreeze_last_blocks,
    )
    from zoo.classification.config import ClassifierConfig, FitConfig, TrainConfig  # noqa: F401
    from zoo.classification.evaluation import evaluate_classifier  # noqa: F401
    from zoo.classification.feature_cache import (  # noqa: F401
        compute_features,
        dataset_digest,
        FeatureCache,
    )
    from zoo.classification.heads import (  # noqa: F401
        attach_head,
        HeadResult,
        train_head,
        train_heads,
    )
    from zoo.classification.model_io import load_model_and_class_names  # noqa: F401
    from zoo.classification.predict import predict_paths, Prediction  # noqa: F401
    from zoo.classification.trainer import train_classifier, TrainResult  # noqa: F401

_LAZY = {
    "apply_head": "zoo.classification.classifier",
    "build_classifier": "zoo.classification.classifier",
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
    "ClassifierConfig": "zoo.classification.config",
    "FitConfig": "zoo.classification.config",
    "TrainConfig": "zoo.classification.config",
    "TrainResult": "zoo.classification.trainer",
    "train_classifier": "zoo.classification.trainer",
    "FeatureCache": "zoo.classification.feature_cache",
    "compute_features": "zoo.classification.feature_cache",
    "dataset_digest": "zoo.classification.feature_cache",
    "HeadResult": "zoo.classification.heads",
    "attach_head": "zoo.classification.heads",
    "train_head": "zoo.classification.heads",
    "train_heads": "zoo.classification.heads",
}

__getattr__, __dir__ = lazy_attributes("zoo.classification", globals(), _LAZY)

__all__ = list(_LAZY)
