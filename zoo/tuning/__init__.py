"""keras-tuner's machinery, tracked in MLflow, for any family's search.

A family brings its hypermodel and its options (the classifier's are in
zoo.classification.search); zoo.tuning brings:

    tuners.py       random / hyperband / bayesian with zoo's trial loop
    stopping.py     the median stopping rule
    run_tree.py     the MLflow run tree: parent, trial-NNNN children
    leaderboard.py  the ended trials ranked, leaderboard.json/.csv in the parent
    distributed.py  chief / workers / local launcher, MLflow server
    addresses.py    the oracle's address, as each machine names it
    settings.py     the distributed search's timings and role names

Importing zoo.tuning imports neither TensorFlow nor MLflow; the names below
load their module on first use.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

from zoo.errors import TuningError

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.tuning.distributed import launch_local_search, start_mlflow_server  # noqa: F401
    from zoo.tuning.run_tree import SearchRuns  # noqa: F401
    from zoo.tuning.stopping import median_rule_stops, MedianStopping  # noqa: F401
    from zoo.tuning.tuners import (  # noqa: F401
        BayesianOptimization,
        Hyperband,
        make_tuner,
        parse_objective,
        RandomSearch,
        ZooTuner,
    )

_LAZY = {
    "make_tuner": "zoo.tuning.tuners",
    "parse_objective": "zoo.tuning.tuners",
    "ZooTuner": "zoo.tuning.tuners",
    "RandomSearch": "zoo.tuning.tuners",
    "Hyperband": "zoo.tuning.tuners",
    "BayesianOptimization": "zoo.tuning.tuners",
    "MedianStopping": "zoo.tuning.stopping",
    "median_rule_stops": "zoo.tuning.stopping",
    "SearchRuns": "zoo.tuning.run_tree",
    "launch_local_search": "zoo.tuning.distributed",
    "start_mlflow_server": "zoo.tuning.distributed",
}

__getattr__, __dir__ = lazy_attributes("zoo.tuning", globals(), _LAZY)


__all__ = ["TuningError", *_LAZY]
