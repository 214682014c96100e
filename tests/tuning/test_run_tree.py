"""The MLflow run tree of a search: parent, trial-NNNN children, hp.* params,
the leaderboard after every trial; failed trials; early stopping; the retrained model."""

import json

import pytest

from zoo.errors import SearchFailedError
from zoo.classification.search.hypermodel import ClassifierHyperModel
from zoo.tuning.run_tree import SearchRuns
from zoo.classification.search.search import run_search


def artifact(client, run_id, path):
    with open(client.download_artifacts(run_id, path)) as handle:
        return json.load(handle)


@pytest.mark.slow
def test_parent_children_params_and_leaderboard(store, search_options, children_of):
    from mlflow import MlflowClient

    uri = store[0]
    client = MlflowClient(uri)
    seen = []  # leaderboard length in the parent each time a trial ends

    def progress(line):
        if line.startswith("["):
            parent = json.load(open(store[1] / "mlflow_runs.json"))["parent_run_id"]
            seen.append(len(artifact(client, parent, "leaderboard.json")))

    result = run_search(search_options(space={"head": ["linear", "mlp"]}, median_stopping=False),
                        progress=progress)
    assert seen == [1, 2, 3]

    parent = client.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED"
    children = children_of(uri, result.parent_run_id)
    assert sorted(c.info.run_name for c in children) == ["trial-0000", "trial-0001",
                                                         "trial-0002"]
    keys = {frozenset(k for k in c.data.params if k.startswith("hp.")) for c in children}
    assert len(keys) == 1  # every child has the same hp.* names, for parallel coordinates
    assert {"hp.backbone", "hp.head", "hp.dropout", "hp.learning_rate", "hp.batch_size",
            "hp.epochs"} <= set(next(iter(keys)))
    for child in children:
        assert child.info.status == "FINISHED"
        assert child.data.tags["zoo.trial.status"] == "COMPLETED"
        assert child.data.tags["zoo.trial.stopped_early"] == "false"
        assert "score" in child.data.metrics
        history = client.get_metric_history(child.info.run_id, "epoch/val_accuracy")
        assert sorted(m.step for m in history) == [0, 1, 2]

    board = artifact(client, result.parent_run_id, "leaderboard.json")
    scores = [row["score"] for row in board]
    assert scores == sorted(scores, reverse=True) and len(board) == 3
    assert board[0]["score"] == pytest.approx(result.best_score)
    space = artifact(client, result.parent_run_id, "search_space.json")
    assert {p["config"]["name"] for p in space["space"]} >= {"head", "dropout", "batch_size"}
    best = artifact(client, result.parent_run_id, "best_hyperparameters.json")
    assert parent.data.params["best.head"] == best["head"]
    assert "leaderboard.csv" in [f.path for f in client.list_artifacts(result.parent_run_id)]


class FailsWithMlp(ClassifierHyperModel):
    """A search space value ("mlp") that makes a trial raise."""

    def fit(self, hp, model, *args, **kwargs):
        if hp.values["head"] == "mlp":
            raise RuntimeError("mlp heads are broken today")
        return super().fit(hp, model, *args, **kwargs)


@pytest.mark.slow
def test_failed_trials_become_failed_runs_and_the_search_goes_on(
        store, search_options, children_of):
    from mlflow import MlflowClient

    uri = store[0]
    result = run_search(
        search_options(backbones=["mobilenet_v3_small"], max_trials=4, epochs=1,
                       space={"head": ["linear", "mlp"]}, seed=1, retrain=True,
                       register="digits"),
        hypermodel_class=FailsWithMlp)
    client = MlflowClient(uri)
    children = children_of(uri, result.parent_run_id)
    assert len(children) == 4
    heads = {c.data.params["hp.head"] for c in children}
    assert heads == {"linear", "mlp"}, "the seed should draw both heads"
    for child in children:
        if child.data.params["hp.head"] == "mlp":
            assert child.info.status == "FAILED"
            assert child.data.tags["zoo.trial.status"] == "FAILED"
            text = open(client.download_artifacts(child.info.run_id, "traceback.txt")).read()
            assert "mlp heads are broken today" in text
        else:
            assert child.info.status == "FINISHED"
    assert client.get_run(result.parent_run_id).info.status == "FINISHED"
    # The best (linear) configuration was retrained, logged and registered.
    assert result.best_hyperparameters["head"] == "linear"
    assert result.final is not None and result.final.split == "test"
    version = client.get_model_version_by_alias("digits", "candidate")
    assert version.run_id == result.parent_run_id
    # Its evaluation comes with the baselines.
    parent_metrics = client.get_run(result.parent_run_id).data.metrics
    assert {"test/accuracy", "test/majority_class_accuracy"} <= set(parent_metrics)


def seed_finished_trials(uri, project, histories):
    """A search's parent run with finished trials, as an earlier run of this
    project (or another worker) left them: their curves are on the tracking
    server, which is where the median rule reads them."""
    from zoo import tracking

    with tracking.tracked_run("tune", run_name="search-project", tracking_uri=uri,
                              tags={"zoo.search.name": "project"}) as parent:
        runs = SearchRuns(project, uri)
        runs.set_parent(parent.info.run_id)
        for trial_id, values in histories.items():
            run_id = runs.start_trial(trial_id)
            for epoch, value in enumerate(values):
                runs.client.log_metric(run_id, "epoch/val_accuracy", value, step=epoch)
            runs.end_trial(run_id, "COMPLETED", {}, score=max(values))
    return parent.info.run_id


@pytest.mark.slow
def test_median_rule_stops_a_hopeless_trial(store, search_options, children_of):
    from mlflow import MlflowClient

    uri, project = store
    seeded = {"9000": [0.8, 0.9, 0.95, 0.97], "9001": [0.7, 0.85, 0.9, 0.92]}
    parent_id = seed_finished_trials(uri, project, seeded)
    assert SearchRuns(project, uri).finished_histories("val_accuracy") == seeded
    result = run_search(search_options(max_trials=1, epochs=4, warmup_epochs=2,
                                       space={"learning_rate": 1e-7, "head": "linear",
                                              "dropout": 0.0}))
    assert result.parent_run_id == parent_id
    (child,) = [c for c in children_of(uri, parent_id)
                if c.data.tags["zoo.trial_id"] not in seeded]
    assert child.data.tags["zoo.trial.stopped_early"] == "true"
    assert child.data.tags["zoo.trial.status"] == "STOPPED_EARLY"
    # It ran as the rule asked and has a score: FINISHED; KILLED means interrupted.
    assert child.info.status == "FINISHED"
    assert "score" in child.data.metrics
    steps = [m.step for m in MlflowClient(uri).get_metric_history(child.info.run_id,
                                                                  "epoch/val_accuracy")]
    assert sorted(steps) == [0, 1]


class AlwaysFails(ClassifierHyperModel):
    def fit(self, hp, model, *args, **kwargs):
        raise RuntimeError(f"broken head {hp.values['head']}")


@pytest.mark.slow
def test_a_search_where_no_trial_succeeds_fails_with_a_summary(
        store, search_options, children_of):
    from mlflow import MlflowClient

    uri, project = store
    with pytest.raises(SearchFailedError) as raised:
        run_search(search_options(max_trials=2, epochs=1, space={"head": "linear"},
                                  retrain=True), hypermodel_class=AlwaysFails)
    message = str(raised.value)
    parent_id = json.loads((project / "mlflow_runs.json").read_text())["parent_run_id"]
    children = {c.info.run_name: c for c in children_of(uri, parent_id)}
    assert sorted(children) == ["trial-0000", "trial-0001"]
    assert "2 of 2 trials failed" in message
    assert f"trial-0000 (run {children['trial-0000'].info.run_id})" in message
    assert "RuntimeError: broken head linear" in message
    assert MlflowClient(uri).get_run(parent_id).info.status == "FAILED"


@pytest.mark.slow
def test_zoo_tune_with_no_successful_trial_exits_1_without_a_traceback(
        store, capsys, monkeypatch):
    from zoo.classification.search.cli import main

    def broken(self, hp, model, *args, **kwargs):
        raise RuntimeError("no memory for this head")

    monkeypatch.setattr(ClassifierHyperModel, "fit", broken)
    uri, project = store
    # Two failures in a row end the search (keras-tuner's --max-failures).
    status = main(["--max-trials", "3", "--max-failures", "2", "--epochs", "1",
                   "--backbones", "resnet50", "--weights", "none", "--space", "head=linear",
                   "--project-dir", str(project), "--tracking-uri", uri, "--no-retrain"])
    captured = capsys.readouterr()
    assert status == 1, captured.out + captured.err
    assert "Traceback" not in captured.err
    assert "2 of 2 trials failed" in captured.err
    assert "RuntimeError: no memory for this head" in captured.err


def test_a_worker_finds_the_running_parent_by_name_in_a_folder_of_its_own(store, tmp_path):
    from mlflow import MlflowClient

    from zoo import tracking
    from zoo.errors import TuningError

    uri, chief_folder = store
    client = MlflowClient(uri)
    with tracking.tracked_run("tune", tracking_uri=uri,
                              tags={"zoo.search.name": "other"}):
        pass
    ids = {}
    for name, opened in (("stale", "100.0"), ("live", "200.0")):
        with tracking.tracked_run("tune", tracking_uri=uri,
                                  tags={"zoo.search.name": "digits", "zoo.search.opened": opened}
                                  ) as run:
            ids[name] = run.info.run_id
        client.update_run(run.info.run_id, status="RUNNING")  # as a chief holds it
    # A folder an earlier search left: its trial mapping must not be reused.
    worker_folder = tmp_path / "worker"
    SearchRuns(worker_folder, uri).set_parent("an-old-parent")
    SearchRuns(worker_folder, uri)._remember("0", "an-old-run")

    runs = SearchRuns(worker_folder, uri)
    assert runs.find_parent("tune", name="digits", timeout=0) == ids["live"]
    assert runs.mapping() == {"parent_run_id": ids["live"], "trials": {}}
    with pytest.raises(TuningError, match="No running search named 'flowers'.*--search-name"):
        runs.find_parent("tune", name="flowers", timeout=0)


def test_workers_find_their_search_by_the_oracle_address_and_never_confuse_two(store):
    """Chiefs of several machines on one tracking server, each search named
    after a folder called "search"; a worker knows only the oracle's address."""
    from mlflow import MlflowClient

    from zoo import tracking
    from zoo.errors import TuningError
    from zoo.tuning.run_tree import choose_parent

    uri, project = store
    client = MlflowClient(uri)
    ids = {}
    for key, oracle, host, opened, running in (
            ("gpu1", "10.0.0.5:8765", "gpu1", "200.0", True),
            ("gpu1-killed", "10.0.0.5:8765", "gpu1", "100.0", True),  # an earlier chief's
            ("gpu2", "10.0.0.6:8765", "gpu2", "300.0", True),
            ("gpu3-any", "0.0.0.0:9000", "gpu3", "100.0", True),
            ("laptop-a", "127.0.0.1:8765", "laptop-a", "100.0", True),
            ("laptop-b", "127.0.0.1:8765", "laptop-b", "100.0", True),
            ("done", "10.0.0.7:8765", "gpu7", "100.0", False)):
        with tracking.tracked_run("tune", tracking_uri=uri, tags={
                "zoo.search.name": "search", "zoo.search.oracle": oracle,
                "zoo.search.chief_host": host, "zoo.search.opened": opened}) as run:
            ids[key] = run.info.run_id
        if running:
            client.update_run(run.info.run_id, status="RUNNING")  # as a chief holds it
    runs = SearchRuns(project, uri)
    assert runs.find_parent("tune", oracle="10.0.0.5:8765", timeout=0) == ids["gpu1"]
    assert runs.find_parent("tune", oracle="10.0.0.6:8765", timeout=0) == ids["gpu2"]
    assert runs.find_parent("tune", oracle="10.0.0.9:9000", timeout=0) == ids["gpu3-any"]
    with pytest.raises(TuningError, match="No running search with its oracle on "
                                          "10.0.0.7:8765.*--oracle-host and --oracle-port"):
        runs.find_parent("tune", oracle="10.0.0.7:8765", timeout=0)

    # Chiefs that kept 127.0.0.1: a worker on one of their machines joins that one.
    experiment = client.get_experiment_by_name("tune").experiment_id
    running = client.search_runs([experiment], "attributes.status = 'RUNNING'")
    assert choose_parent(running, oracle="127.0.0.1:8765",
                         here="laptop-b").info.run_id == ids["laptop-b"]
    assert choose_parent(running, oracle="localhost:8765",
                         here="laptop-a").info.run_id == ids["laptop-a"]
    # Through a tunnel, from a third machine: two searches fit; it says so.
    with pytest.raises(TuningError, match="Several running searches.*laptop-a.*laptop-b.*"
                                          "--search-name"):
        choose_parent(running, oracle="127.0.0.1:8765", here="gpu9")
    assert choose_parent(running, oracle="127.0.0.1:9999", here="laptop-a") is None
