"""The end of a search: the best configuration trained again, evaluated,
logged as a model in the parent run, and registered as a `candidate`.

No trial's model is kept during the search (heads on features are not whole
classifiers, and keeping models costs memory), so the best hyperparameters
are trained once more into a full classifier here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from zoo.classification.search.result import FinalSummary


@dataclass
class FinalModel(FinalSummary):
    """What the retrained best configuration came to: its FinalSummary (the
    scores and where the model is) and the TrainConfig it was trained with."""

    config: object = None


def best_config(tuner, hypermodel):
    """The TrainConfig of the best trial, with the epochs it actually used."""
    trial = tuner.oracle.get_best_trials(1)[0]
    hp = trial.hyperparameters
    epochs = hp.values.get("tuner/epochs", hp.values.get("epochs"))
    config = hypermodel.config_for(hp.copy(), batch_size=hp.values["batch_size"],
                                   epochs=int(epochs))
    return config, trial


def epochs_until_best(trial) -> dict:
    """The epochs of each phase a trial ran up to its best epoch, as
    TrainConfig fields: what a retrain without validation data repeats."""
    best = (trial.best_step or 0) + 1
    if not trial.metrics.exists("phase_1_epochs"):  # a head on cached features
        return {"epochs": best}
    phase_1 = int(trial.metrics.get_last_value("phase_1_epochs"))
    return {"epochs": max(1, min(phase_1, best)), "fine_tune_epochs": max(0, best - phase_1)}


def retrain_and_log(config, trial, train, val, test, class_names, *, retrain_on_all=False,
                    register: str | None = None, feature_cache=None) -> FinalModel:
    """Train `config` into a full classifier and log it to the active (parent) run.

    Args:
        config: the best TrainConfig (see best_config).
        trial: the best keras-tuner trial (its best epoch sets the length
            of a retrain on all data).
        train, val, test: batched (images, labels) data; test may be None.
        class_names: the labels' names.
        retrain_on_all: train on train + validation, for the epochs of each
            phase the trial ran up to its best one, with no early stopping
            (validation data then reports nothing new; the test split, when
            there is one, does).
        register: register the model under this name with alias `candidate`.
        feature_cache: the search's FeatureCache.
    """
    import mlflow

    from zoo import tracking
    from zoo.classification.baselines import dataset_baselines
    from zoo.classification.evaluation import evaluate_classifier
    from zoo.classification.run_record import log_evaluation, log_learning_curves
    from zoo.classification import train_classifier

    data = train
    if retrain_on_all:
        data = train.concatenate(val)
        config = dataclasses.replace(config, patience=0, **epochs_until_best(trial))
    result = train_classifier(config, data, val, len(class_names), feature_cache=feature_cache,
                              verbose=0)
    log_learning_curves(result)
    mlflow.log_dict(config.to_dict(), "best_config.json")
    evaluated = test if test is not None else val
    report = evaluate_classifier(result.model, evaluated, class_names)
    split = "test" if test is not None else "val"
    # Baselines fitted on the data the model was trained on.
    log_evaluation(report, split, dataset_baselines(data, {split: evaluated})[split])
    example = next(iter(val.take(1)))[0].numpy()[:2].astype(np.uint8)
    info = tracking.log_keras_model(result.model, example)
    mlflow.log_text(json.dumps(class_names), "class_names.json")
    version = None
    if register:
        version = tracking.register_candidate(info.model_uri, register)
    return FinalModel(float(report.accuracy), "test" if test is not None else "validation",
                      info.model_uri, version, config=config)
