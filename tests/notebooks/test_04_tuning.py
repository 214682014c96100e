"""04_tuning: one MLflow child run per keras-tuner trial, and a best trial above chance."""

import pytest


@pytest.mark.slow
def test_every_trial_is_one_child_run_and_the_best_beats_the_majority_class(run_notebook):
    results = run_notebook("04_tuning.ipynb")
    assert results["trials"] >= 2
    # keras-tuner's own trial records, MLflow's child runs and the leaderboard agree.
    assert results["child_runs"] == results["trials"] == results["leaderboard_rows"]
    # Ten digits: the majority class is right about a tenth of the time.
    assert results["best_score"] > results["majority_class_accuracy"] + 0.2
