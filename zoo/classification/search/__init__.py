"""The classifier's hyperparameter search: its space, hypermodel, options,
retraining and `zoo tune`, on keras-tuner's machinery in zoo.tuning.

    from zoo.classification.search import SearchOptions, run_search
    result = run_search(SearchOptions(data="digits", tuner="bayesian", max_trials=20))

or, piece by piece:

    hypermodel = ClassifierHyperModel(10, 32, ["resnet50"], overrides={"head": "mlp"})
    tuner = make_tuner("hyperband", hypermodel, "runs/tune/x", runs=SearchRuns(...))
    tuner.search(train, validation_data=val)

Where things live, one job per file:

    space.py        the tunable dimensions, their defaults, fixing/narrowing them
    hypermodel.py   ClassifierHyperModel: build(hp), fit(hp, model, ...)
    options.py      SearchOptions and its command line, both ways
    search.py       run_search(): the whole search, step by step
    retrain.py      the best configuration trained again, evaluated, registered
    result.py       SearchResult, its file in the project dir, the final report
    cli.py          `zoo tune`

Importing it imports neither TensorFlow nor MLflow; the names below load
their module on first use.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.classification.search.hypermodel import ClassifierHyperModel  # noqa: F401
    from zoo.classification.search.options import SearchOptions  # noqa: F401
    from zoo.classification.search.result import SearchResult  # noqa: F401
    from zoo.classification.search.search import run_search  # noqa: F401
    from zoo.classification.search.space import parse_override, SearchSpace  # noqa: F401

_LAZY = {
    "ClassifierHyperModel": "zoo.classification.search.hypermodel",
    "SearchSpace": "zoo.classification.search.space",
    "parse_override": "zoo.classification.search.space",
    "SearchOptions": "zoo.classification.search.options",
    "SearchResult": "zoo.classification.search.result",
    "run_search": "zoo.classification.search.search",
}

__getattr__, __dir__ = lazy_attributes("zoo.classification.search", globals(), _LAZY)

__all__ = list(_LAZY)
