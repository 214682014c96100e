"""Title: Hyperparameter search for an image classifier, every trial in MLflow.

Description: searches backbones, heads, dropout, learning rate, label
smoothing (and, on request, fine-tuning depth, augmentation, batch size and
epochs) with keras-tuner's random search, Hyperband or Bayesian optimisation.
MLflow gets one parent run for the search and one child run per trial
(trial-0000, trial-0001, ...): per-epoch curves, hp.* params for the
parallel-coordinates view, score and status; the parent keeps the search
space, a leaderboard updated after every trial, the best hyperparameters and
the best configuration retrained into a model (registered as `candidate`
with --register). Hopeless trials stop early (median rule); a failing trial
is recorded as FAILED and the search goes on; running the same command again
resumes the search without duplicating a run. A distributed search spans
machines: workers need only the oracle's address and the tracking server's
(README, "Distributed search"); keras-tuner's KERASTUNER_* variables mean
the same as --chief / --worker N.

Needs: zoo's dependencies. The default data (scikit-learn's digits) is
embedded, so it runs offline in a few minutes on a 2-core CPU. With a frozen
backbone (the default space), trials train heads on cached backbone
features: the backbone runs over the data once per search.

    python recipes/tune_classifier.py                     # digits, random search, 8 trials
    python recipes/tune_classifier.py --tuner hyperband --epochs 9 --backbones resnet50
    python recipes/tune_classifier.py --space fine_tune_blocks=0,1 --space augment=0:0.5
    python recipes/tune_classifier.py --launch-workers 2  # chief + 2 workers + MLflow server
    python recipes/tune_classifier.py --chief --oracle-host 10.0.0.5 --tracking-uri http://...
    python recipes/tune_classifier.py --worker 0 --oracle-host 10.0.0.5 ...  # on any machine
    zoo tune ...                                          # the same
"""

from __future__ import annotations

import argparse

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

from zoo.arguments import parse_checked  # noqa: E402
from zoo.classification.search.cli import run  # noqa: E402
from zoo.classification.search.options import (  # noqa: E402
    add_search_arguments,
    check_search_arguments,
)
from zoo.recipe_run import run_recipe  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="tune_classifier",
        description="Search classifier hyperparameters with keras-tuner, tracked in MLflow.")
    add_search_arguments(parser)
    return parse_checked(parser, argv, check_search_arguments)


def main(argv=None) -> int:
    args = parse_args(argv)
    # The steps (zoo.classification.search.search.run_search):
    # 1. data: train / validation, and test when the source has one;
    # 2. the hypermodel: the search space with --space overrides, and one
    #    feature cache shared by all trials;
    # 3. the parent MLflow run (reopened when --project-dir holds a search);
    # 4. keras-tuner's search: one child run per trial, progress printed
    #    as "[done/total] trial-NNNN status score";
    # 5. leaderboard, best hyperparameters, the best configuration retrained,
    #    evaluated and logged (and registered with --register).
    # At the end: the leaderboard, the best score, where everything is.
    return run(args)


if __name__ == "__main__":
    run_recipe(main, "tune_classifier")
