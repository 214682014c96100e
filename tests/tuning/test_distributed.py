"""keras-tuner's distributed mode on one machine, started the way a person
does (`zoo tune --launch-workers 2`): an MLflow server on a SQLite store, one
chief oracle and two workers, tiny heads on cached features."""

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_launch_workers_runs_chief_and_two_workers_into_one_tree(
        store, children_of, all_runs, subprocess_env):
    uri, project = store
    command = [sys.executable, "-m", "zoo.tuning.cli", "--launch-workers", "2",
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
    base = [sys.executable, "-m", "zoo.tuning.cli", "--data", "digits", "--backbones",
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
