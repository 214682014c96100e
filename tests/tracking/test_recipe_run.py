"""The run scaffold every recipe uses: one MLflow run that a resume continues,
with one point per epoch however often the epochs were trained."""

from argparse import Namespace

import mlflow

from zoo.recipe_run import RecipeRun


def _args(tmp_path, resume):
    return Namespace(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", strategy="default",
                     resume=resume, output_dir=str(tmp_path / "run"), register=None)


def _attempt(tmp_path, epochs, *, resume, previous_run_id=None):
    run = RecipeRun(_args(tmp_path, resume), "scaffold-test")
    run.open_output("unused")
    if previous_run_id is not None:
        # What --resume finds beside an older checkpoint: the run to continue.
        run.previous = {"config": {}, "extra": {"run_id": previous_run_id}}
    logged = []
    with run.tracked("gan-like", params={"epochs": 4}):
        # What the training loop calls: the model's callback, and the
        # baseline's, which logs its validation values only.
        model = run.epoch_callback(on_logged=lambda epoch, _: logged.append(epoch))
        baseline = run.epoch_callback(prefix="l1_only_", only="val_")
        for epoch in epochs:
            model.on_epoch_end(epoch, {"g_loss": 1.0 / (epoch + 1), "val_l1": 0.5, "lr": 2e-4})
            baseline.on_epoch_end(epoch, {"val_psnr": 20.0 + epoch, "g_loss": 9.0})
    return run, logged


def test_a_resume_that_trains_logged_epochs_again_keeps_one_point_per_epoch(tmp_path):
    # The first attempt logs epochs 0-2, then is killed before epoch 2's
    # checkpoint; the resume starts again at epoch 2 (or earlier, when the
    # newest checkpoint was damaged) and trains through epoch 3.
    first, logged_first = _attempt(tmp_path, range(3), resume=False)
    second, logged_second = _attempt(tmp_path, range(1, 4), resume=True,
                                     previous_run_id=first.run_id)

    assert second.run_id == first.run_id
    assert logged_first == [0, 1, 2] and logged_second == [3]
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    for key in ("epoch/g_loss", "epoch/val_l1", "lr", "epoch/l1_only_val_psnr"):
        steps = sorted(point.step for point in client.get_metric_history(first.run_id, key))
        assert steps == [0, 1, 2, 3], key
    history = client.get_metric_history(first.run_id, "epoch/l1_only_val_psnr")
    assert {point.step: point.value for point in history} == {0: 20.0, 1: 21.0, 2: 22.0, 3: 23.0}
    assert client.get_metric_history(first.run_id, "epoch/l1_only_g_loss") == []


def test_a_new_run_logs_every_epoch_it_is_given(tmp_path):
    run, logged = _attempt(tmp_path, [0, 1, 1], resume=False)
    # Without a resume nothing is held back, even a repeated step.
    assert logged == [0, 1, 1]
