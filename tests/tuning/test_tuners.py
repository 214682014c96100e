"""Each tuner end to end (Hyperband's brackets, Bayesian optimisation past its
random start), a trial that fine-tunes the whole classifier, and the best
configuration retrained on train + validation."""

import pytest
import json

from zoo.classification.search.search import run_search

FIXED_HEAD = {"head": "linear", "dropout": 0.0}


@pytest.mark.slow
def test_hyperband_runs_its_brackets_and_continues_the_best_trial(store, search_options,
                                                                  children_of):
    from mlflow import MlflowClient

    uri = store[0]
    result = run_search(search_options(
        tuner="hyperband", epochs=3, median_stopping=False,
        space={**FIXED_HEAD, "learning_rate": (1e-3, 1e-1)}))
    client = MlflowClient(uri)
    children = children_of(uri, result.parent_run_id)
    assert all(c.info.status == "FINISHED" for c in children)
    # max_epochs 3, factor 3: bracket 1 trains three heads for 1 epoch and
    # carries the best on to 3; bracket 0 trains two for 3 epochs.
    rounds = sorted((c.data.params["hp.tuner/bracket"], c.data.params["hp.tuner/round"])
                    for c in children)
    assert rounds == [("0", "0"), ("0", "0"), ("1", "0"), ("1", "0"), ("1", "0"), ("1", "1")]
    (continued,) = [c for c in children if c.data.params["hp.tuner/round"] == "1"]
    parent_trial = continued.data.params["hp.tuner/trial_id"]
    (parent,) = [c for c in children if c.data.tags["zoo.trial_id"] == parent_trial]
    assert parent.data.params["hp.learning_rate"] == continued.data.params["hp.learning_rate"]
    # The continued trial logs the epochs it ran, after its parent's.
    steps = sorted(m.step for m in client.get_metric_history(continued.info.run_id,
                                                             "epoch/val_accuracy"))
    assert steps == [1, 2]
    assert len(result.leaderboard) == 6


@pytest.mark.slow
def test_bayesian_optimisation_goes_past_its_random_start(store, search_options, children_of):
    uri, project = store
    result = run_search(search_options(
        tuner="bayesian", max_trials=5, median_stopping=False,
        space={**FIXED_HEAD, "learning_rate": (1e-4, 1e-1)}))
    children = children_of(uri, result.parent_run_id)
    assert len(children) == 5 and all(c.info.status == "FINISHED" for c in children)
    # The Gaussian process may propose a bound twice; the random start may not.
    assert len({c.data.params["hp.learning_rate"] for c in children}) >= 3
    # One tunable dimension: 2 random trials, then 3 from the Gaussian process
    # (keras-tuner's own default would count the pinned dimensions too).
    oracle = json.loads((project / "oracle.json").read_text())
    assert oracle["num_initial_points"] == 2


@pytest.mark.slow
def test_a_fine_tuning_trial_and_a_retrain_on_all_data(store, search_options, children_of):
    from mlflow import MlflowClient

    uri = store[0]
    result = run_search(search_options(
        backbones=["mobilenet_v3_small"], max_trials=1, epochs=2, median_stopping=False,
        retrain=True, retrain_on_all=True,
        space={**FIXED_HEAD, "fine_tune_blocks": 1, "augment": 0.1}))
    client = MlflowClient(uri)
    (child,) = children_of(uri, result.parent_run_id)
    assert child.info.status == "FINISHED"
    phases = {m.step: m.value for m in client.get_metric_history(child.info.run_id, "phase")}
    steps = sorted(phases)
    assert steps == list(range(len(steps)))  # steps go on across the phases
    assert [phases[s] for s in steps[:2]] == [1, 1] and phases[steps[-1]] == 2

    # The retrain repeats the trial's epochs of each phase up to its best one.
    trial = json.loads((store[1] / "trial_0" / "trial.json").read_text())
    best = trial["best_step"]
    config = json.loads(open(client.download_artifacts(result.parent_run_id,
                                                       "best_config.json")).read())
    assert config["epochs"] == min(2, best + 1)
    assert config["fine_tune_epochs"] == best + 1 - config["epochs"]
    assert config["patience"] == 0
    assert result.final is not None and 0.0 <= result.final.accuracy <= 1.0
