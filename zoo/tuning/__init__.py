"""Hyperparameter search for zoo classifiers: keras-tuner's tuners, tracked in MLflow.

    from zoo.tuning import SearchOptions, run_search
    result = run_search(SearchOptions(data="digits", tuner="bayesian", max_trials=20))

or, piece by piece:

    hypermodel = ClassifierHyperModel(10, 32, ["resnet50"], overrides={"head": "mlp"})
    tuner = make_tuner("hyperband", hypermodel, "runs/tune/x", runs=SearchRuns(...))
    tuner.search(train, validation_data=val)

Where things live, one job per file:

    space.py        the tunable dimensions, their defaults, fixing/narrowing them
    hypermodel.py   ClassifierHyperModel: build(hp), fit(hp, model, ...)
    tuners.py       random / hyperband / bayesian with zoo's trial loop
    stopping.py     the median stopping rule
    run_tree.py     the MLflow run tree: parent, trial-NNNN children, leaderboard
    retrain.py      the best configuration trained again, evaluated, registered
    options.py      SearchOptions and its command line, both ways
    search.py       run_search(): the whole search, step by step
    result.py       SearchResult, its file in the project dir, the final report
    distributed.py  chief / workers / local launcher, MLflow server
    cli.py          `zoo tune`

Importing zoo.tuning imports neither TensorFlow nor MLflow; the names below
load their module on first use.
"""

from zoo._lazy import lazy_attributes

from zoo.errors import TuningError

_LAZY = {
    "ClassifierHyperModel": "zoo.tuning.hypermodel",
    "SearchSpace": "zoo.tuning.space",
    "parse_override": "zoo.tuning.space",
    "make_tuner": "zoo.tuning.tuners",
    "parse_objective": "zoo.tuning.tuners",
    "ZooTuner": "zoo.tuning.tuners",
    "RandomSearch": "zoo.tuning.tuners",
    "Hyperband": "zoo.tuning.tuners",
    "BayesianOptimization": "zoo.tuning.tuners",
    "MedianStopping": "zoo.tuning.stopping",
    "median_rule_stops": "zoo.tuning.stopping",
    "SearchRuns": "zoo.tuning.run_tree",
    "SearchOptions": "zoo.tuning.options",
    "SearchResult": "zoo.tuning.result",
    "run_search": "zoo.tuning.search",
    "launch_local_search": "zoo.tuning.distributed",
    "start_mlflow_server": "zoo.tuning.distributed",
    "add_tune_command": "zoo.tuning.cli",
}

__getattr__, __dir__ = lazy_attributes("zoo.tuning", globals(), _LAZY)


__all__ = ["TuningError", *_LAZY]
