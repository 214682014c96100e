"""keras-tuner's distributed mode on one machine, started the way a person
does (`zoo tune --launch-workers 2`): an MLflow server on a SQLite store, one
chief oracle and two workers, tiny heads on cached features."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.classification.search.cli import python_command

SEARCH_COMMAND = python_command()  # `zoo tune` in a child process

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tune_classifier.py"


@pytest.mark.slow
def test_launch_workers_runs_chief_and_two_workers_into_one_tree(
        store, children_of, all_runs, subprocess_env):
    uri, project = store
    command = [*SEARCH_COMMAND, "--launch-workers", "2",
               "--data", "digits", "--backbones", "resnet50", "--max-trials", "6",
               "--epochs", "4", "--image-size", "32", "--weights", "none", "--no-retrain",
               "--no-median-stopping", "--seed", "2", "--project-dir", str(project),
               "--tracking-uri", uri]
    done = subprocess.run(command, env=subprocess_env, capture_output=True, text=True,
                          timeout=500)
    logs = "\n".join(p.read_text()[-2000:] for p in sorted((project / "logs").glob("*.log")))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + logs
    # Progress from both workers as it happened, then the chief's leaderboard,
    # read from the result file the chief wrote (never scraped from its log).
    assert "tuner0: [" in done.stdout and "tuner1: [" in done.stdout, done.stdout
    assert "Leaderboard (6 trials" in done.stdout, done.stdout
    result = json.loads((project / "search_result.json").read_text())
    assert len(result["leaderboard"]) == 6
    assert f"MLflow parent run: {result['parent_run_id']}" in done.stdout

    runs = all_runs(uri)  # the server is gone; the SQLite file has everything
    assert not [r for r in runs if r.info.status == "RUNNING"], logs
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    children = children_of(uri, parents[0].info.run_id)
    assert sorted(c.info.run_name for c in children) == [f"trial-{i:04d}" for i in range(6)]
    assert all(c.info.status == "FINISHED" for c in children)
    workers = {c.data.tags["zoo.worker"] for c in children}
    assert workers == {"tuner0", "tuner1"}, logs
    # Artifacts went through the server into mlartifacts/ beside the database.
    stored = list((project.parent / "mlartifacts").rglob("leaderboard.json"))
    assert any(parents[0].info.run_id in str(path) for path in stored)


@pytest.mark.slow
def test_a_worker_killed_mid_trial_and_started_again_finishes_its_trial(
        store, children_of, all_runs, subprocess_env, tmp_path):
    """What the README tells a person whose worker died: start it again with
    the same id. The chief's oracle hands it its unfinished trial back."""
    import signal
    import time

    from zoo.tuning.distributed import free_port, start_mlflow_server, stop_process

    uri, project = store
    server, url = start_mlflow_server(uri)
    base = [*SEARCH_COMMAND, "--data", "digits", "--backbones",
            "resnet50", "--max-trials", "3", "--epochs", "8", "--image-size", "32",
            "--weights", "none", "--no-retrain", "--no-median-stopping", "--seed", "4",
            "--project-dir", str(project), "--tracking-uri", url,
            "--oracle-port", str(free_port())]
    processes = []

    def start(*role, name):
        log = open(tmp_path / f"{name}.log", "w")
        processes.append(subprocess.Popen(base + list(role), env=subprocess_env, stdout=log,
                                          stderr=subprocess.STDOUT))
        return processes[-1]

    def logs():
        return "\n".join(p.read_text()[-2000:] for p in sorted(tmp_path.glob("*.log")))

    mapping = project / "mlflow_runs.json"
    try:
        chief = start("--chief", name="chief")
        worker = start("--worker", "0", name="worker-first")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and worker.poll() is None:
            trials = json.loads(mapping.read_text())["trials"] if mapping.exists() else {}
            if len(trials) >= 2:  # the second trial is training
                break
            time.sleep(0.05)
        assert worker.poll() is None, logs()
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_trial = max(json.loads(mapping.read_text())["trials"])

        start("--worker", "0", name="worker-again")
        assert chief.wait(timeout=300) == 0, logs()
    finally:
        for process in processes:
            stop_process(process)
        stop_process(server)

    runs = all_runs(uri)
    assert not [r for r in runs if r.info.status == "RUNNING"], logs()
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = children_of(uri, parent.info.run_id)
    assert sorted(c.info.run_name for c in children) == [f"trial-{i:04d}" for i in range(3)]
    assert all(c.info.status == "FINISHED" for c in children), logs()
    (again,) = [c for c in children if c.data.tags["zoo.trial_id"] == killed_trial]
    assert again.data.tags.get("zoo.trial.attempts") == "2"


def _launch(command_for, envs, tmp_path, timeout=600):
    """Start one process per role ({name: extra env}), the chief first; wait for
    all; return {name: (exit status, log text)}. Every process is stopped."""
    import os
    import time

    from zoo.tuning.distributed import stop_process

    processes = {}
    try:
        for name, extra in envs.items():
            log = open(tmp_path / f"{name}.log", "w")
            processes[name] = (subprocess.Popen(command_for(name), env={**os.environ, **extra},
                                                stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True), log)
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p, _ in processes.values()):
            assert time.monotonic() < deadline, "the search did not end in time"
            time.sleep(1)
    finally:
        for process, log in processes.values():
            stop_process(process)
            log.close()
    return {name: (p.returncode, (tmp_path / f"{name}.log").read_text())
            for name, (p, _) in processes.items()}


def _assert_one_tree(uri, trials, outcome, children_of, all_runs):
    """One parent, exactly `trials` trial runs, each credited to the worker
    whose log reports it, nothing retried; returns (parent, children)."""
    import re

    logs = "\n".join(f"--- {name}\n{text[-3000:]}" for name, (_, text) in outcome.items())
    assert all(status == 0 for status, _ in outcome.values()), logs
    runs = all_runs(uri)
    assert not [r for r in runs if r.info.status == "RUNNING"], logs
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, logs
    children = children_of(uri, parents[0].info.run_id)
    assert sorted(c.info.run_name for c in children) == [f"trial-{i:04d}"
                                                         for i in range(trials)], logs
    assert all(c.info.status == "FINISHED" for c in children), logs
    assert not [c for c in children if "zoo.trial.attempts" in c.data.tags], logs
    credited = {c.info.run_name: c.data.tags["zoo.worker"] for c in children}
    reported = {}
    for name in ("tuner0", "tuner1"):
        for trial in re.findall(r"^\[\d+/\d+\] (trial-\d{4}) ", outcome[name][1], re.M):
            reported[trial] = name
    assert reported == credited, logs
    return parents[0], children


@pytest.mark.slow
def test_oracle_on_another_address_and_no_shared_project_directory(
        tmp_path, children_of, all_runs):
    """The chief's oracle listens on 127.0.0.2 (standing in for a machine's
    network address); the chief and each worker have a folder (and a zoo
    cache) of their own, named differently, as on three machines, and no
    --search-name: the workers find the search by the oracle's address. All
    log to one tracking server."""
    import socket
    import threading

    from zoo.tuning.distributed import free_port, start_mlflow_server, stop_process

    store = f"sqlite:///{tmp_path}/server/mlflow.db"
    (tmp_path / "server").mkdir()
    server, url = start_mlflow_server(store)
    port = free_port()
    folders = {"chief": tmp_path / "chief", "tuner0": tmp_path / "w0",
               "tuner1": tmp_path / "w1"}
    role = {"chief": ["--chief"], "tuner0": ["--worker", "0"], "tuner1": ["--worker", "1"]}

    def command_for(name):
        return [*SEARCH_COMMAND, "--data", "digits", "--backbones",
                "resnet50", "--max-trials", "4", "--epochs", "3", "--image-size", "32",
                "--weights", "none", "--no-retrain", "--seed", "6",
                "--project-dir", str(folders[name]),
                "--tracking-uri", url, "--oracle-host", "127.0.0.2",
                "--oracle-port", str(port)] + role[name]

    listening = {}

    def probe():  # while the search runs: the oracle is on 127.0.0.2, not on 127.0.0.1
        import time

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and "127.0.0.2" not in listening:
            for host in ("127.0.0.2", "127.0.0.1"):
                with socket.socket() as connection:
                    connection.settimeout(1)
                    listening[host] = connection.connect_ex((host, port)) == 0
            if not listening["127.0.0.2"]:
                listening.pop("127.0.0.2")
            time.sleep(0.2)

    watcher = threading.Thread(target=probe, daemon=True)
    watcher.start()
    try:
        outcome = _launch(command_for, {name: {"ZOO_CACHE_DIR": str(folder / "cache"),
                                               "TF_CPP_MIN_LOG_LEVEL": "2"}
                                        for name, folder in folders.items()}, tmp_path)
    finally:
        stop_process(server)
    watcher.join(5)
    assert listening == {"127.0.0.2": True, "127.0.0.1": False}

    uri = store  # the server is gone; its SQLite file has everything
    parent, children = _assert_one_tree(uri, 4, outcome, children_of, all_runs)
    assert parent.data.tags["zoo.search.oracle"] == f"127.0.0.2:{port}"
    assert parent.data.tags["zoo.search.name"] == "chief"
    # Only the chief keeps keras-tuner's oracle; the workers' folders are their own.
    assert (folders["chief"] / "oracle.json").exists()
    assert not list(folders["tuner0"].rglob("oracle.json"))
    assert not list(folders["tuner1"].rglob("oracle.json"))
    # The leaderboard (the chief's result and the parent's artifact) is right.
    result = json.loads((folders["chief"] / "search_result.json").read_text())
    scores = {c.info.run_id: c.data.metrics["score"] for c in children}
    board = result["leaderboard"]
    assert {row["run_id"] for row in board} == set(scores)
    assert [row["score"] for row in board] == sorted(scores.values(), reverse=True)
    assert all(row["score"] == scores[row["run_id"]] for row in board)
    assert result["best_score"] == max(scores.values())
    assert result["parent_run_id"] == parent.info.run_id


@pytest.mark.slow
def test_keras_tuner_variables_launch_the_same_search_as_the_flags(
        store, children_of, all_runs, tmp_path):
    """keras-tuner's own way: KERASTUNER_TUNER_ID=chief|tuner0|tuner1 and the
    oracle's address on three recipe processes, one project directory."""
    from zoo.tuning.distributed import free_port, start_mlflow_server, stop_process

    uri, project = store
    server, url = start_mlflow_server(uri)
    port = str(free_port())

    def command_for(name):
        return [sys.executable, str(RECIPE), "--data", "digits",
                "--backbones", "resnet50", "--max-trials", "4", "--epochs", "2",
                "--image-size", "32", "--weights", "none", "--no-retrain", "--seed", "7",
                "--no-median-stopping", "--project-dir", str(project), "--tracking-uri", url]

    try:
        outcome = _launch(command_for, {
            name: {"KERASTUNER_TUNER_ID": name, "KERASTUNER_ORACLE_IP": "127.0.0.1",
                   "KERASTUNER_ORACLE_PORT": port, "TF_CPP_MIN_LOG_LEVEL": "2"}
            for name in ("chief", "tuner0", "tuner1")}, tmp_path)
    finally:
        stop_process(server)
    _assert_one_tree(uri, 4, outcome, children_of, all_runs)
    assert "Worker 0 done." in outcome["tuner0"][1]
    assert "Leaderboard (4 trials" in outcome["chief"][1]


@pytest.mark.slow
def test_a_search_whose_workers_all_die_ends_within_its_bound(tmp_path, all_runs):
    """Both workers are killed mid-trial: the chief stops waiting after
    --worker-timeout, says which trials wait and how to restart their
    workers, exits 1, and leaves no run RUNNING (the parent ends FAILED).
    Restarted as it says, the search finishes those trials in their own runs."""
    import os
    import signal
    import time

    from mlflow import MlflowClient

    from zoo.tuning.distributed import free_port, start_mlflow_server, stop_process

    store = f"sqlite:///{tmp_path}/mlflow.db"
    server, url = start_mlflow_server(store)
    port = str(free_port())
    bound = 60
    roles = {"chief": ["--chief", "--worker-timeout", str(bound)],
             "tuner0": ["--worker", "0"], "tuner1": ["--worker", "1"]}
    processes = {}

    def start(name, attempt=""):
        folder = tmp_path / ("chief" if name == "chief" else f"w{name[-1]}")
        processes[name] = subprocess.Popen(
            [*SEARCH_COMMAND, "--data", "digits", "--backbones",
             "resnet50", "--max-trials", "2", "--epochs", "100", "--image-size", "32",
             "--weights", "none", "--no-retrain", "--no-median-stopping",
             "--project-dir", str(folder), "--tracking-uri", url, "--oracle-port", port]
            + roles[name], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            stdout=open(tmp_path / f"{name}{attempt}.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def log(name):
        return (tmp_path / f"{name}.log").read_text()

    def running_workers():
        client = MlflowClient(url)
        experiment = client.get_experiment_by_name("tune")
        if experiment is None:
            return set()
        runs = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")
        return {r.data.tags.get("zoo.worker") for r in runs if "mlflow.parentRunId" in r.data.tags}

    try:
        for name in roles:
            start(name)
        deadline = time.monotonic() + 300
        while running_workers() != {"tuner0", "tuner1"}:
            assert time.monotonic() < deadline, "\n".join(log(n)[-2000:] for n in roles)
            assert all(p.poll() is None for p in processes.values()), \
                "\n".join(log(n)[-2000:] for n in roles)
            time.sleep(0.5)
        for name in ("tuner0", "tuner1"):
            processes[name].send_signal(signal.SIGKILL)
            processes[name].wait()
        killed = time.monotonic()
        status = processes["chief"].wait(timeout=bound + 120)
        waited = time.monotonic() - killed
        chief_log = log("chief")
        runs = all_runs(store)
        for name in roles:  # as the message says: the chief, then the same workers
            start(name, attempt="-again")
        again = processes["chief"].wait(timeout=600)
    finally:
        for process in processes.values():
            stop_process(process)
        stop_process(server)

    assert status == 1, chief_log[-3000:]
    assert waited < bound + 60, (waited, chief_log[-3000:])
    assert "Traceback" not in chief_log, chief_log[-3000:]
    assert "zoo tune: the search failed: No worker has reached the oracle" in chief_log
    assert "(worker tuner0)" in chief_log and "(worker tuner1)" in chief_log, chief_log[-3000:]
    assert "`zoo tune --worker 0 ...`" in chief_log and "`zoo tune --worker 1 ...`" in chief_log
    assert not [r for r in runs if r.info.status == "RUNNING"]
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FAILED"
    assert sorted(r.info.status for r in runs if r is not parent) == ["KILLED", "KILLED"]

    assert again == 0, log("chief-again")[-3000:]
    runs = all_runs(store)
    assert [r.info.run_id for r in runs if "mlflow.parentRunId" not in r.data.tags] == [
        parent.info.run_id]
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.info.run_name for r in trials) == ["trial-0000", "trial-0001"]
    assert all(r.info.status == "FINISHED" and r.data.tags["zoo.trial.attempts"] == "2"
               for r in trials), [(r.info.status, r.data.tags) for r in trials]
