"""zoo.tracking against a real, offline MLflow store (SQLite in a temporary folder)."""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from zoo.tracking import (
    CANDIDATE,
    CHAMPION,
    RunTerminated,
    TrackingError,
    close_stale_run,
    flatten_config,
    log_config,
    log_dataset,
    log_keras_model,
    log_plot,
    promote_if_better,
    register_candidate,
    resolve_tracking_uri,
    standard_tags,
    tracked_run,
)
from zoo.tracking import params as tracking_params
from zoo.tracking import ui as tracking_ui
from zoo.tracking.cli import add_commands as add_tracking_commands

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for the module: creating its tables takes about 2 s.

    Tests keep apart by using their own experiment and model names. MLflow
    copies the URI it is given into MLFLOW_TRACKING_URI; both are put back.
    """
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder}/mlflow.db"
    saved_env = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    if saved_env is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved_env


@pytest.fixture
def client(store):
    from mlflow import MlflowClient

    return MlflowClient(store)


@pytest.fixture
def experiment(request):
    """An experiment name of this test's own."""
    return f"test-{request.node.name}"


def metric_steps(client, run_id, key):
    return [m.step for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]


# ---------------------------------------------------------------------------
# store URI, params and tags


def test_uri_resolution_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == f"sqlite:///{tmp_path}/mlflow.db"

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert resolve_tracking_uri() == "http://tracking.example:5000"
    assert resolve_tracking_uri("sqlite:///runs/zoo.db") == f"sqlite:///{tmp_path}/runs/zoo.db"

    # Absolute, in-memory and plain-folder stores.
    assert resolve_tracking_uri("sqlite:////data/x.db") == "sqlite:////data/x.db"
    assert resolve_tracking_uri("sqlite:///:memory:") == "sqlite:///:memory:"
    assert resolve_tracking_uri("mlruns") == str(tmp_path / "mlruns")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "  ")
    assert resolve_tracking_uri(None) == f"sqlite:///{tmp_path}/mlflow.db"


def test_flatten_config():
    config = {
        "backbone": "resnet50",
        "image_size": (224, 224),
        "head": {"units": 256, "dropout": 0.2, "pooling": None},
        "augment": [{"name": "flip"}, {"name": "rotate", "factor": 0.1}],
        "data": {"folder": Path("/data/flowers"), "classes": []},
        "callbacks": {},
        "fine_tune": True,
        "bad key!": 1,
    }
    assert flatten_config(config) == {
        "backbone": "resnet50",
        "image_size": "[224, 224]",
        "head.units": "256",
        "head.dropout": "0.2",
        "head.pooling": "None",
        "augment.0.name": "flip",
        "augment.1.name": "rotate",
        "augment.1.factor": "0.1",
        "data.folder": "/data/flowers",
        "data.classes": "[]",
        "callbacks": "{}",
        "fine_tune": "True",
        "bad key_": "1",
    }
    assert flatten_config({"a": {"b": 1}}, sep="/") == {"a/b": "1"}


def test_flatten_config_cuts_long_values_within_mlflow_limits():
    from mlflow.utils.validation import MAX_ENTITY_KEY_LENGTH, MAX_PARAM_VAL_LENGTH

    assert tracking_params.MAX_PARAM_VALUE_LENGTH == MAX_PARAM_VAL_LENGTH
    assert tracking_params.MAX_KEY_LENGTH == MAX_ENTITY_KEY_LENGTH
    flat = flatten_config({"classes": [f"class_{i}" for i in range(2000)], "k" * 300: 1})
    value = flat["classes"]
    assert len(value) == MAX_PARAM_VAL_LENGTH
    assert value.startswith("[class_0, class_1") and "cut" in value[-60:]
    assert max(len(key) for key in flat) == MAX_ENTITY_KEY_LENGTH


def test_standard_tags(tmp_path, monkeypatch):
    import zoo

    monkeypatch.chdir(tmp_path)  # not a git work tree
    tags = standard_tags("classify", backbone="resnet50", data_source="tfds:tf_flowers",
                         data_digest="abc123")
    assert tags == {"zoo.recipe": "classify", "zoo.version": zoo.__version__,
                    "zoo.backbone": "resnet50", "zoo.data.source": "tfds:tf_flowers",
                    "zoo.data.digest": "abc123"}
    assert standard_tags("pix2pix") == {"zoo.recipe": "pix2pix", "zoo.version": zoo.__version__}

    monkeypatch.setenv("PATH", str(tmp_path))  # git missing
    assert tracking_params.git_commit(REPO_ROOT) is None


def test_git_commit_in_a_repository(tmp_path):
    if shutil.which("git") is None:
        pytest.skip(reason="git is not installed")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    assert tracking_params.git_commit(tmp_path) is None  # no commit yet
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path,
                   check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert tracking_params.git_commit(tmp_path) == head


def test_import_is_light():
    code = ("import sys, zoo.tracking; "
            "print(sorted(m for m in ('mlflow', 'keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------
# metrics


def tiny_classifier(learning_rate=0.05):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), metrics=["accuracy"],
                  loss="sparse_categorical_crossentropy")
    return model


def test_callback_steps_continue_across_phases(store, client, experiment, tmp_path):
    from zoo.tracking import MlflowMetricsCallback

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    model = tiny_classifier()
    with tracked_run(experiment, tracking_uri=store) as run:
        fit = dict(x=x, y=y, validation_data=(x[:8], y[:8]), batch_size=16, verbose=0)
        model.fit(epochs=2, callbacks=[MlflowMetricsCallback(spool_folder=tmp_path)], **fit)
        # Phase 2 (e.g. fine-tuning) counts on from epoch 2, so the steps go on.
        model.fit(epochs=4, initial_epoch=2,
                  callbacks=[MlflowMetricsCallback(spool_folder=tmp_path)], **fit)
    run_id = run.info.run_id
    for key in ("epoch/loss", "epoch/accuracy", "epoch/val_loss", "epoch/val_accuracy", "lr"):
        assert metric_steps(client, run_id, key) == [0, 1, 2, 3], key
    assert [m.value for m in client.get_metric_history(run_id, "lr")] == pytest.approx([0.05] * 4)
    # Train and validation values of one epoch share a timestamp: one log_batch call.
    by_step = {m.step: m.timestamp for m in client.get_metric_history(run_id, "epoch/loss")}
    assert {m.step: m.timestamp
            for m in client.get_metric_history(run_id, "epoch/val_loss")} == by_step


class RecordingClient:
    def __init__(self):
        self.batches = []
        self.sent = []  # every point of every batch, in order

    def log_batch(self, run_id, metrics=()):
        self.batches.append((run_id, {m.key: (m.value, m.step) for m in metrics}))
        self.sent.append((run_id, [(m.key, m.value, m.step) for m in metrics]))


def test_callback_offset_prefix_and_explicit_run(tmp_path):
    from zoo.tracking import MlflowMetricsCallback

    client = RecordingClient()
    callback = MlflowMetricsCallback(run_id="r1", client=client, initial_epoch_offset=10,
                                     prefix="finetune/", log_learning_rate=False,
                                     spool_folder=tmp_path)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": np.float32(0.5), "val_loss": 0.75, "note": "text"})
    callback.on_epoch_end(1, {})
    callback.on_train_end()  # the values are sent in the background until then
    assert callback.unsent == 0 and not list(tmp_path.iterdir())
    assert client.batches == [
        ("r1", {"epoch/finetune/loss": (0.5, 10), "epoch/finetune/val_loss": (0.75, 10)})]


def test_callback_skips_what_the_run_holds_and_keeps_what_it_is_told(tmp_path):
    """A resumed attempt re-trains epochs the run holds: each key keeps one
    point per step, and `on_logged` hears only of the epochs logged."""
    from zoo.tracking import MlflowMetricsCallback

    client, heard = RecordingClient(), []
    callback = MlflowMetricsCallback(
        run_id="r1", client=client, only="val_", spool_folder=tmp_path,
        logged_through={"epoch/val_loss": 1, "epoch/val_psnr": 0},
        on_logged=lambda epoch, model: heard.append(epoch))
    callback.on_train_begin()
    for epoch in range(3):
        callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 0.5, "val_psnr": 20.0 + epoch})
    callback.on_train_end()
    # The spool may send both epochs in one batch: compare the points sent.
    points = {(run_id, key, value, step) for run_id, metrics in client.sent
              for key, value, step in metrics}
    assert points == {("r1", "epoch/val_psnr", 21.0, 1), ("r1", "epoch/val_loss", 0.5, 2),
                      ("r1", "epoch/val_psnr", 22.0, 2)}
    assert heard == [1, 2]


def test_callback_without_a_run_says_what_to_do(store):
    from zoo.tracking import MlflowMetricsCallback

    with pytest.raises(TrackingError, match="tracked_run"):
        MlflowMetricsCallback().on_train_begin()


# ---------------------------------------------------------------------------
# params, tags, artifacts, model


def tiny_image_model():
    import keras

    inputs = keras.Input((8, 8, 3), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_run_holds_params_tags_artifacts_and_model(store, client, experiment, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow
    import zoo

    config = {"backbone": "tiny", "head": {"dropout": 0.2}, "data": Path("/data/x")}
    tags = standard_tags("classify", backbone="tiny", data_source="digits", data_digest="d1g")
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    model = tiny_image_model()
    figure, axes = plt.subplots()
    axes.plot([1, 0.5, 0.25])
    loss_png = tmp_path / "loss.png"
    figure.savefig(loss_png)

    with tracked_run(experiment, run_name="smoke", tracking_uri=store, tags=tags) as run:
        assert log_config(config) == {"backbone": "tiny", "head.dropout": "0.2",
                                      "data": "/data/x"}
        assert log_plot(figure, "history.png") == "plots/history.png"
        assert log_plot(loss_png) == "plots/loss.png"
        assert log_plot(loss_png, "phase2/loss_curve.png") == "plots/phase2/loss_curve.png"
        log_dataset("digits", "digits", "d1g", num_examples=1797, profile={"classes": 10})
        info = log_keras_model(model, images)
    plt.close(figure)

    finished = client.get_run(run.info.run_id)
    assert finished.info.status == "FINISHED" and finished.info.run_name == "smoke"
    assert finished.data.params == {"backbone": "tiny", "head.dropout": "0.2", "data": "/data/x"}
    assert finished.data.tags["zoo.version"] == zoo.__version__
    assert finished.data.tags["zoo.data.digest"] == "d1g"
    commit = tracking_params.git_commit()
    if commit is not None:
        assert finished.data.tags["mlflow.source.git.commit"] == commit
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.json", "plots"} <= artifacts
    assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} == {
        "plots/history.png", "plots/loss.png", "plots/phase2"}
    assert [a.path for a in client.list_artifacts(run.info.run_id, "plots/phase2")] == [
        "plots/phase2/loss_curve.png"]
    assert mlflow.artifacts.load_dict(f"{finished.info.artifact_uri}/config.json") == {
        "backbone": "tiny", "head": {"dropout": 0.2}, "data": "/data/x"}
    # The artifacts live beside the database, not in the working directory.
    assert finished.info.artifact_uri.startswith(Path(store[len("sqlite:///"):]).parent.as_uri())

    (dataset_input,) = finished.inputs.dataset_inputs
    assert (dataset_input.dataset.name, dataset_input.dataset.digest) == ("digits", "d1g")
    assert '"num_examples": 1797' in dataset_input.dataset.profile

    signature = info.signature
    (input_spec,) = signature.inputs.inputs
    (output_spec,) = signature.outputs.inputs
    assert (str(input_spec.type), input_spec.shape) == ("uint8", (-1, 8, 8, 3))
    assert (str(output_spec.type), output_spec.shape) == ("float32", (-1, 3))
    loaded = mlflow.keras.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-6)
    # The requirements are the installed versions of what serving the model
    # needs, pinned as MLflow's inference would pin them; zoo is not one.
    from importlib import metadata

    model_folder = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path)))
    requirements = (model_folder / "requirements.txt").read_text().split()
    pins = dict(line.split("==") for line in requirements)
    assert pins["keras"] == metadata.version("keras")
    assert pins["mlflow"] == metadata.version("mlflow")
    assert any(name.startswith("tensorflow") for name in pins)
    assert not any(name.startswith(("zoo", "keras-applied-zoo")) for name in pins)


def test_log_config_on_a_resumed_run_keeps_earlier_params(store, client, experiment):
    with tracked_run(experiment, tracking_uri=store) as run:
        log_config({"epochs": 5, "lr": 0.1})
    with tracked_run(experiment, tracking_uri=store, run_id=run.info.run_id):
        assert log_config({"epochs": 10, "lr": 0.1, "seed": 1}) == {"seed": "1"}
    assert client.get_run(run.info.run_id).data.params == {"epochs": "5", "lr": "0.1", "seed": "1"}


# ---------------------------------------------------------------------------
# registry


def test_candidate_and_champion(store, client, experiment):
    name = "zoo-test-registry"
    model = tiny_classifier()
    example = np.zeros((2, 4), "float32")

    def train_and_register(val_accuracy):
        with tracked_run(experiment, tracking_uri=store) as run:
            import mlflow

            mlflow.log_metric("val_accuracy", val_accuracy, step=0)
            info = log_keras_model(model, example)
            version = register_candidate(info.model_uri, name)
            assert int(client.get_model_version_by_alias(name, CANDIDATE).version) == version
            assert client.get_model_version(name, str(version)).run_id == run.info.run_id
            return version, promote_if_better(name, version)

    def champion():
        return int(client.get_model_version_by_alias(name, CHAMPION).version)

    assert train_and_register(0.8) == (1, True)   # no champion yet
    assert champion() == 1
    assert train_and_register(0.7) == (2, False)  # worse: stays a candidate
    assert champion() == 1
    assert int(client.get_model_version_by_alias(name, CANDIDATE).version) == 2
    assert train_and_register(0.9) == (3, True)   # better: promoted
    assert champion() == 3
    assert promote_if_better(name, 3) is True     # already champion

    # Lower is better: version 2 (0.7) beats the champion (0.9).
    assert promote_if_better(name, 2, higher_is_better=True) is False
    assert promote_if_better(name, 2, higher_is_better=False) is True
    with pytest.raises(TrackingError, match="no metric 'val_auc'"):
        promote_if_better(name, 1, metric="val_auc")


def test_a_chance_level_model_never_becomes_champion(store, client, experiment, caplog):
    import mlflow
    from mlflow.exceptions import MlflowException

    name = "zoo-test-chance-level"
    client.create_registered_model(name)

    def version_scoring(val_accuracy):
        with tracked_run(experiment, tracking_uri=store) as run:
            mlflow.log_metric("val/accuracy", val_accuracy)
        # A version without a logged model: the registry only needs its run.
        return int(client.create_model_version(name, f"runs:/{run.info.run_id}/model",
                                               run_id=run.info.run_id).version)

    def promote(version):
        # 0.4: the majority class's rate on the validation split.
        return promote_if_better(name, version, metric="val/accuracy", chance_level=0.4)

    first = version_scoring(0.4)
    with caplog.at_level("WARNING", logger="zoo.tracking.registry"):
        assert promote(first) is False  # no champion yet, and still not promoted
    assert f"Version {first} of {name!r} stays a candidate" in caplog.text
    assert "val/accuracy 0.4000 does not beat the chance level 0.4000" in caplog.text
    assert "majority-class" in client.get_model_version(name, str(first)).tags[
        "zoo.not_promoted"]
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(name, CHAMPION)

    good = version_scoring(0.9)
    assert promote(good) is True
    assert "zoo.not_promoted" not in client.get_model_version(name, str(good)).tags
    worse_than_chance = version_scoring(0.2)
    assert promote(worse_than_chance) is False
    assert int(client.get_model_version_by_alias(name, CHAMPION).version) == good
    # Without the chance level only the champion's score counts, as before.
    assert promote_if_better(name, first, metric="val/accuracy") is False
    # Lower is better: a loss of 0.5 beats a chance-level loss of 0.6.
    assert promote_if_better(name, worse_than_chance, metric="val/accuracy",
                             higher_is_better=False, chance_level=0.6) is True


# ---------------------------------------------------------------------------
# evaluation reports and the run page


def ui_chart_order(metric_keys):
    """The order MLflow 3.17's run page draws metric charts in (its
    RunsChartsCardConfig.getBaseChartAndSectionConfigs): sections named by
    the part before the last "/", alphabetically, then the metrics with no
    "/" ("Model metrics"); inside a section, alphabetically."""
    def section(key):
        return key.rsplit("/", 1)[0] if "/" in key else None

    named = sorted({section(key) for key in metric_keys} - {None})
    return [key for name in [*named, None]
            for key in sorted(k for k in metric_keys if section(k) == name)]


def constant_image_model(class_index=1):
    """tiny_image_model that always predicts `class_index`."""
    model = tiny_image_model()
    bias = np.zeros(3, "float32")
    bias[class_index] = 5.0
    model.layers[-1].set_weights([np.zeros((3, 3), "float32"), bias])
    return model


def test_run_page_holds_curves_first_headline_scores_and_a_table(store, client, experiment):
    import mlflow

    from zoo.classification.baselines import baselines
    from zoo.classification.evaluation import evaluate_classifier
    from zoo.classification.run_record import log_evaluation, run_description
    from zoo.tracking.names import epoch_metrics, set_run_description

    rng = np.random.default_rng(0)
    train_labels = np.array([1, 1, 1, 0, 2, 1, 0, 1])
    test_labels = np.array([1, 0, 2, 1, 1, 0])  # class 1, the majority in training: 3 of 6
    train_images = rng.integers(0, 256, (8, 8, 8, 3), dtype=np.uint8)
    test_images = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    scores = baselines(train_images, train_labels, test_images, test_labels)
    report = evaluate_classifier(constant_image_model(), (test_images, test_labels),
                                 ["cat", "dog", "bird"])
    assert report.accuracy == pytest.approx(0.5) == scores["majority_class_accuracy"]

    with tracked_run(experiment, tracking_uri=store) as run:
        for epoch in range(3):
            mlflow.log_metrics(epoch_metrics(
                {"loss": 1.0 - epoch / 10, "accuracy": 0.3, "val_loss": 1.1,
                 "val_accuracy": 0.3, "lr": 1e-3, "phase": 1 + epoch // 2}), step=epoch)
        warning = log_evaluation(report, "test", scores)
        # A model that beats its (here made-up) majority class gets no warning.
        assert log_evaluation(report, "val", {**scores, "majority_class_accuracy": 0.2}) is None
        set_run_description(run_description(
            "**toy**: tiny at 8 px", report, "test", scores, facts=["8 training images"],
            model_lines=["Saved model: `model.keras`"]))

    finished = client.get_run(run.info.run_id)
    metrics = finished.data.metrics
    assert set(metrics) == {
        "epoch/loss", "epoch/accuracy", "epoch/val_loss", "epoch/val_accuracy", "lr", "phase",
        *(f"{split}/{name}" for split in ("test", "val") for name in (
            "accuracy", "top_2_accuracy", "macro_f1", "majority_class_accuracy",
            "logistic_accuracy"))}
    assert metric_steps(client, run.info.run_id, "epoch/loss") == [0, 1, 2]
    assert [m.value for m in sorted(client.get_metric_history(run.info.run_id, "phase"),
                                    key=lambda m: m.step)] == [1, 1, 2]
    assert metrics["test/majority_class_accuracy"] == pytest.approx(0.5)
    # The learning curves are the first charts on the run page.
    assert ui_chart_order(metrics)[:4] == [
        "epoch/accuracy", "epoch/loss", "epoch/val_accuracy", "epoch/val_loss"]
    assert ui_chart_order(metrics)[-2:] == ["lr", "phase"]

    # Per-class scores: a table (pandas' "split" layout), not metrics.
    table = mlflow.artifacts.load_dict(
        f"{finished.info.artifact_uri}/evaluation/test_per_class.json")
    assert table["columns"] == ["class", "precision", "recall", "f1", "support"]
    assert table["data"][1][0] == "dog" and table["data"][1][1] == pytest.approx(0.5)
    assert [row[4] for row in table["data"]] == [2, 3, 1]
    assert "evaluation/test_per_class.json" in finished.data.tags["mlflow.loggedArtifacts"]
    # A resumed run that evaluates again replaces the table (log_table alone appends).
    with tracked_run(experiment, tracking_uri=store, run_id=run.info.run_id):
        log_evaluation(report, "test", scores)
    assert mlflow.artifacts.load_dict(
        f"{finished.info.artifact_uri}/evaluation/test_per_class.json") == table

    tags = finished.data.tags
    assert warning and tags["zoo.warning.test"] == warning
    assert "does not beat the majority-class rate 0.5000" in warning
    assert "zoo.warning.val" not in tags
    text = mlflow.artifacts.load_text(f"{finished.info.artifact_uri}/evaluation/test.txt")
    assert "WARNING:" in text and "logistic regression on 8x8x3 pixels" in text

    description = tags["mlflow.note.content"]
    assert description.startswith("**toy**: tiny at 8 px")
    assert "| this model | **0.5000** |" in description
    assert "| majority class (`dog`) | 0.5000 |" in description
    assert "**Warning:**" in description and "`model.keras`" in description


# ---------------------------------------------------------------------------
# how runs end


def test_failed_run_keeps_traceback(store, client, experiment):
    import mlflow

    with pytest.raises(ValueError, match="bad batch"):
        with tracked_run(experiment, tracking_uri=store) as run:
            raise ValueError("bad batch")
    ended = client.get_run(run.info.run_id)
    assert ended.info.status == "FAILED"
    text = mlflow.artifacts.load_text(f"{ended.info.artifact_uri}/traceback.txt")
    assert "ValueError: bad batch" in text
    assert mlflow.active_run() is None


def test_ctrl_c_ends_run_killed(store, client, experiment):
    import mlflow

    with pytest.raises(KeyboardInterrupt):
        with tracked_run(experiment, tracking_uri=store) as run:
            raise KeyboardInterrupt
    ended = client.get_run(run.info.run_id)
    assert ended.info.status == "KILLED"
    assert "KeyboardInterrupt" in mlflow.artifacts.load_text(
        f"{ended.info.artifact_uri}/traceback.txt")


def test_sigterm_handler_only_while_the_run_is_active(store, experiment):
    before = signal.getsignal(signal.SIGTERM)
    with tracked_run(experiment, tracking_uri=store):
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM delivery on Windows")
def test_sigterm_ends_run_killed(store, client, tmp_path):
    import mlflow

    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from zoo.tracking import tracked_run

        with tracked_run("test-sigterm", tracking_uri=sys.argv[1]) as run:
            print(run.info.run_id, flush=True)
            time.sleep(120)
    """))
    process = subprocess.Popen([sys.executable, str(script), store], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        run_id = process.stdout.readline().strip()
        assert run_id, process.stderr.read()
        assert client.get_run(run_id).info.status == "RUNNING"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    ended = client.get_run(run_id)
    assert ended.info.status == "KILLED"
    text = mlflow.artifacts.load_text(f"{ended.info.artifact_uri}/traceback.txt")
    assert "RunTerminated: terminated by signal SIGTERM" in text
    assert RunTerminated.__name__ in text


def test_resume_continues_the_same_run(store, client, experiment):
    import mlflow

    with pytest.raises(RuntimeError):
        with tracked_run(experiment, run_name="first", tracking_uri=store) as run:
            run_id = run.info.run_id
            mlflow.log_metric("loss", 1.0, step=0)
            mlflow.log_metric("loss", 0.8, step=1)
            raise RuntimeError("crash after epoch 2")
    assert client.get_run(run_id).info.status == "FAILED"

    with tracked_run(experiment, tracking_uri=store, run_id=run_id) as resumed:
        assert resumed.info.run_id == run_id
        assert client.get_run(run_id).info.status == "RUNNING"
        mlflow.log_metric("loss", 0.6, step=2)
    resumed_run = client.get_run(run_id)
    assert (resumed_run.info.status, resumed_run.info.run_name) == ("FINISHED", "first")
    assert metric_steps(client, run_id, "loss") == [0, 1, 2]
    assert len(client.search_runs([resumed.info.experiment_id])) == 1


def test_resume_after_kill_9(store, client, experiment):
    # kill -9 leaves the run RUNNING; --resume picks it up and ends it properly.
    experiment_id = client.create_experiment(experiment)
    run_id = client.create_run(experiment_id).info.run_id
    with tracked_run(experiment, tracking_uri=store, run_id=run_id) as run:
        assert run.info.run_id == run_id
    assert client.get_run(run_id).info.status == "FINISHED"


def test_resume_of_an_unknown_run_says_what_to_do(store, experiment):
    with pytest.raises(TrackingError, match="--tracking-uri"):
        with tracked_run(experiment, tracking_uri=store, run_id="0" * 32):
            pass


def test_close_stale_run(store, client, experiment):
    # A run whose process died by kill -9: still RUNNING.
    experiment_id = client.create_experiment(experiment)
    run_id = client.create_run(experiment_id).info.run_id
    assert close_stale_run(run_id, tracking_uri=store) is True
    assert client.get_run(run_id).info.status == "KILLED"
    assert close_stale_run(run_id, tracking_uri=store) is False
    with pytest.raises(TrackingError, match="KILLED, FAILED or FINISHED, not 'DONE'"):
        close_stale_run(run_id, status="DONE", tracking_uri=store)


# ---------------------------------------------------------------------------
# zoo ui


def ui_parser():
    parser = argparse.ArgumentParser(prog="zoo")
    add_tracking_commands(parser.add_subparsers(dest="command"))
    return parser


class FakePopen:
    calls = []

    def __init__(self, command, **kwargs):
        FakePopen.calls.append(command)

    def wait(self, timeout=None):
        return 0


def test_ui_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking_ui.subprocess, "Popen", FakePopen)
    FakePopen.calls = []

    args = ui_parser().parse_args(["ui", "--tracking-uri", "sqlite:///runs.db"])
    assert args.func(args) == 0
    uri = f"sqlite:///{tmp_path}/runs.db"
    assert capsys.readouterr().out == f"MLflow UI: http://127.0.0.1:5000  (store: {uri})\n"
    assert FakePopen.calls == [[
        sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
        "--host", "127.0.0.1", "--port", "5000",
        "--artifacts-destination", (tmp_path / "mlartifacts").as_uri()]]

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example")
    args = ui_parser().parse_args(["ui", "--port", "5123", "--host", "0.0.0.0"])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("MLflow UI: http://0.0.0.0:5123  (store: http://tracking.")
    assert "network" in captured.err
    assert FakePopen.calls[-1][4:] == ["--backend-store-uri", "http://tracking.example",
                                       "--host", "0.0.0.0", "--port", "5123"]

    with pytest.raises(SystemExit):
        ui_parser().parse_args(["ui", "--port", "70000"])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX process group")
def test_ui_starts_and_answers(store, tmp_path):
    port = free_port()
    log = open(tmp_path / "ui.log", "w")
    # Its own session: `mlflow ui` starts the web server as a child process.
    server = subprocess.Popen(tracking_ui.ui_command(store, "127.0.0.1", port), stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        # About 20 s on an idle 2-core machine (two web workers start); room for a busy one.
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "ui.log").read_text()
            try:
                with opener.open(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "ui.log").read_text()
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_open_ui_command_shows_a_store_here_by_its_relative_path(tmp_path, monkeypatch):
    from zoo.tracking import open_ui_command

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert open_ui_command() == "zoo ui --tracking-uri sqlite:///mlflow.db"
    elsewhere = tmp_path.parent / "other.db"
    assert open_ui_command(f"sqlite:///{elsewhere}") == \
        f"zoo ui --tracking-uri sqlite:///{elsewhere}"
    assert open_ui_command("http://127.0.0.1:5005") == "zoo ui --tracking-uri http://127.0.0.1:5005"
