"""Resume: a search killed with SIGKILL mid-trial, run again with the same
project directory, finishes with every trial once, one parent, nothing RUNNING."""

import pytest
import json
import signal
import subprocess
import time

from zoo.classification.search.cli import python_command

SEARCH_COMMAND = python_command()  # `zoo tune` in a child process


def logged_epochs(uri, run_id) -> list:
    """The steps of a run's epoch/val_accuracy points, in order."""
    from mlflow import MlflowClient

    try:
        history = MlflowClient(uri).get_metric_history(run_id, "epoch/val_accuracy")
    except Exception:  # the search process holds the SQLite file for a moment
        return []
    return sorted(m.step for m in history)


@pytest.mark.slow
def test_sigkill_mid_trial_then_resume(store, children_of, all_runs, subprocess_env, tmp_path):
    uri, project = store
    command = [*SEARCH_COMMAND, "--max-trials", "5", "--epochs", "6",
               "--backbones", "resnet50", "--weights", "none", "--no-retrain",
               "--no-median-stopping", "--project-dir", str(project), "--tracking-uri", uri,
               "--seed", "5"]
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(command, env=subprocess_env, stdout=log, stderr=subprocess.STDOUT)
    mapping = project / "mlflow_runs.json"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and first.poll() is None:
            trials = json.loads(mapping.read_text())["trials"] if mapping.exists() else {}
            # The third trial is training and has logged an epoch (of six).
            if len(trials) >= 3 and logged_epochs(uri, trials[max(trials)]):
                break
            time.sleep(0.05)
        assert first.poll() is None, open(tmp_path / "first.log").read()[-3000:]
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
        log.close()
    parent_id = json.loads(mapping.read_text())["parent_run_id"]
    assert any(r.info.status == "RUNNING" for r in all_runs(uri)), "killed mid-trial"

    second = subprocess.run(command, env=subprocess_env, capture_output=True, text=True,
                            timeout=300)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "already done" in second.stdout

    runs = all_runs(uri)
    assert not [r for r in runs if r.info.status == "RUNNING"]
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert [p.info.run_id for p in parents] == [parent_id]
    children = children_of(uri, parent_id)
    names = sorted(c.info.run_name for c in children)
    assert names == [f"trial-{i:04d}" for i in range(5)]
    trial_ids = sorted(c.data.tags["zoo.trial_id"] for c in children)
    assert len(set(trial_ids)) == 5
    assert all(c.info.status == "FINISHED" for c in children)
    # The interrupted trial's run was reopened, and its curves have one point per epoch.
    reopened = [c for c in children if c.data.tags.get("zoo.trial.attempts") == "2"]
    assert len(reopened) == 1, [c.data.tags for c in children]
    for child in children:
        steps = logged_epochs(uri, child.info.run_id)
        assert steps and steps == list(range(len(steps))), (child.info.run_name, steps)
