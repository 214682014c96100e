"""keras-tuner's distributed mode on one machine: an MLflow server on a SQLite
store, one chief oracle and two workers, tiny heads on cached features."""

import pytest

from zoo.tuning.distributed import launch_local_search
from zoo.tuning.search import SearchOptions


@pytest.mark.slow
def test_chief_and_two_workers_log_one_tree(store, children_of, all_runs):
    uri, project = store
    options = SearchOptions(data="digits", backbones=["resnet50"], max_trials=6, epochs=4,
                            image_size=32, weights="none", project_dir=str(project),
                            tracking_uri=uri, retrain=False, median_stopping=False, seed=2)
    status = launch_local_search(2, options, timeout=400)
    logs = "\n".join(p.read_text()[-2000:] for p in sorted((project / "logs").glob("*.log")))
    assert status == 0, logs

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
