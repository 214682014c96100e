"""The checks every model family passes: a contract that a new family inherits.

In the way keras-hub's `TestCase.run_task_test` works, a family's test module
describes the family once and is given every check. It subclasses
`FamilyContract` (the class name starting with `Test`), fills in the hooks,
and pytest collects:

- `test_kill_mid_epoch_then_resume` (slow): a training process killed with
  SIGKILL in the middle of an epoch resumes from its last checkpoint and ends
  in the state of a run that never stopped;
- `test_saved_model_loads_without_zoo`: the files the family ships load with
  `safe_mode=True` in a process where zoo cannot be imported, and answer as
  they did before saving;
- `test_fit_on_one_device`: Keras `fit()` trains the family's model;
- `test_mlflow_record`: the recipe's run is finished, holds one point per
  epoch of every curve, and a model with a signature; the family then checks
  its own details on the same run (`check_record`);
- `test_bad_argument_exits_2_before_tensorflow`: each bad argument stops the
  recipe at once, with exit status 2 and the option named, before TensorFlow
  is imported or any data is read.

`SLOW_CHECKS` names the checks that only `make test-all` runs; a family adds
to it (tests/conftest.py marks them).
"""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
RECIPES = REPO / "recipes"

# Trains the family until the middle of the epoch asked for, marks the spot and
# waits there to be killed.
KILLED_RUN = textwrap.dedent(
    """
    import importlib.util, sys, time
    sys.path.insert(0, {tests!r})
    spec = importlib.util.spec_from_file_location("family_under_test", {module!r})
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import keras

    class Stall(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == ({epoch}, {batch}):
                open({marker!r}, "w").close()
                time.sleep(600)

    getattr(module, {family!r})().train({checkpoint_dir!r}, callbacks=[Stall()])
    """
)

# Loads each saved file where zoo cannot be imported and writes its answers.
PLAIN_KERAS = textwrap.dedent(
    """
    import sys
    sys.modules["zoo"] = None  # any import of zoo now fails
    try:
        import zoo  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("zoo is importable: the check would prove nothing")
    import keras
    import numpy as np
    for name in sys.argv[1:]:
        model = keras.saving.load_model(name + ".keras", safe_mode=True)
        np.save(name + ".out.npy", keras.ops.convert_to_numpy(model(np.load(name + ".npy"))))
    print("loaded", len(sys.argv) - 1)
    """
)

# Runs a recipe's argument check in a fresh interpreter and reports how it
# ended and whether TensorFlow got imported on the way.
ARGUMENT_PROBE = textwrap.dedent(
    """
    import runpy, sys
    code = None
    try:
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
    print("EXIT", code, "TENSORFLOW", "tensorflow" in sys.modules)
    """
)


@dataclass
class RecordedRun:
    """What a recipe run left, for the MLflow checks.

    Args:
        uri: the tracking store.
        run_id: the run.
        epochs: the epochs the run trained (one point each per curve); None
            when early stopping may end it sooner (every curve then holds the
            same epochs).
        registered: registry names the run registered, each with a
            `candidate` alias.
        output: what the recipe printed.
        result: what the recipe's `main` returned.
    """

    uri: str
    run_id: str
    epochs: int | None
    registered: list[str] = field(default_factory=list)
    output: str = ""
    result: object = None


class FamilyContract:
    """The hooks a family fills in; every `test_` method is a check it inherits."""

    # The recipe under recipes/ that trains the family.
    recipe: str = ""
    # (argv, option): argv must stop the recipe naming `option`.
    bad_arguments: tuple = ()
    # (epoch, batch) where the killed run stops: both counted from 0, so
    # (1, 2) is after the third batch of the second epoch. A family with
    # phases lists one point in each.
    kill_points: tuple = ((1, 2),)
    # Batches in every epoch of an uninterrupted run, when the family promises
    # a number (None: no check).
    batches_per_epoch: int | None = None
    SLOW_CHECKS = frozenset({"test_kill_mid_epoch_then_resume"})

    # -- hooks --------------------------------------------------------------

    def train(self, checkpoint_dir, *, resume: bool = False, callbacks=()):
        """Train a small model, checkpointing in `checkpoint_dir`. Returns the
        family's result, with `.model`, `.state` and `.resumed_from`."""
        raise NotImplementedError

    def state_of(self, result) -> list:
        """Every array the resumed run must match: weights, optimizer slots,
        random state..."""
        raise NotImplementedError

    def assert_same_state(self, resumed, uninterrupted) -> None:
        """Exact by default: a resumed run is bit-identical on one machine."""
        for mine, theirs in zip(self.state_of(resumed), self.state_of(uninterrupted),
                                strict=True):
            np.testing.assert_array_equal(mine, theirs)
        assert resumed.state["history"] == uninterrupted.state["history"]

    def saved_models(self, folder: Path) -> dict:
        """Save what the family ships into `folder`; returns {name: (model, inputs)}
        with each file at `folder/name.keras`."""
        raise NotImplementedError

    def fit_model(self):
        """A compiled model, its training data and validation data for `fit()`.
        Returns (model, data, validation_data, names of logged values)."""
        raise NotImplementedError

    def record(self, workdir: Path, load_recipe) -> RecordedRun:
        """Run the recipe on a tiny setting into `workdir`."""
        raise NotImplementedError

    def check_record(self, recorded: RecordedRun) -> None:
        """The family's own checks on the recorded run."""

    # -- checks -------------------------------------------------------------

    @pytest.fixture(scope="class")
    def uninterrupted(self, tmp_path_factory):
        counter = _BatchCounter()
        result = self.train(tmp_path_factory.mktemp("uninterrupted") / "checkpoints",
                            callbacks=[counter])
        result.batches = counter.batches
        return result

    def test_kill_mid_epoch_then_resume(self, tmp_path, uninterrupted, kill_point):
        epoch, batch = kill_point
        checkpoints = tmp_path / "checkpoints"
        marker = tmp_path / "mid-epoch"
        script = KILLED_RUN.format(
            tests=str(TESTS), module=inspect.getfile(type(self)), family=type(self).__name__,
            epoch=epoch, batch=batch, marker=str(marker), checkpoint_dir=str(checkpoints))
        process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        try:
            deadline = time.monotonic() + 600
            while not marker.exists():
                assert process.poll() is None, \
                    f"the run ended before the kill: {process.stderr.read()[-3000:]}"
                assert time.monotonic() < deadline, f"the run never reached {kill_point}"
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        assert (checkpoints / "latest").read_text().strip() == f"epoch-{epoch:04d}"

        resumed = self.train(checkpoints, resume=True)
        assert resumed.resumed_from == epoch
        assert resumed.state["epoch"] == uninterrupted.state["epoch"]
        self.assert_same_state(resumed, uninterrupted)
        if self.batches_per_epoch is not None:
            assert uninterrupted.batches == [self.batches_per_epoch] * len(uninterrupted.batches)

    def test_saved_model_loads_without_zoo(self, tmp_path):
        models = self.saved_models(tmp_path)
        assert models, "saved_models returned nothing to check"
        for name, (_, inputs) in models.items():
            np.save(tmp_path / f"{name}.npy", inputs)
        loaded = subprocess.run(
            [sys.executable, "-c", PLAIN_KERAS, *models], cwd=tmp_path, capture_output=True,
            text=True, timeout=600,
            env={**os.environ, "PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "2"})
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        assert f"loaded {len(models)}" in loaded.stdout
        for name, (model, inputs) in models.items():
            # The same kernels in both processes (one machine, one setting): exact.
            np.testing.assert_array_equal(np.load(tmp_path / f"{name}.out.npy"),
                                          np.asarray(model(inputs)), err_msg=name)

    def test_fit_on_one_device(self):
        import keras

        model, data, validation, names = self.fit_model()
        before = [np.array(w) for w in model.trainable_weights]
        history = model.fit(data, validation_data=validation, epochs=2, shuffle=False, verbose=0)
        for name in names:
            values = history.history[name]
            assert len(values) == 2 and np.all(np.isfinite(values)), (name, values)
        assert any(not np.array_equal(old, np.asarray(new))
                   for old, new in zip(before, model.trainable_weights)), "fit changed nothing"
        assert isinstance(model, keras.Model)

    def test_mlflow_record(self, workdir, load_recipe):
        import mlflow

        recorded = self.record(workdir, load_recipe)
        client = mlflow.MlflowClient(recorded.uri)
        run = client.get_run(recorded.run_id)
        assert run.info.status == "FINISHED"
        assert run.data.tags["zoo.recipe"] == self.recipe
        assert run.data.params and run.data.tags.get("mlflow.note.content")
        curves = [key for key in run.data.metrics if key.startswith("epoch/") or key == "lr"]
        assert curves, "the run holds no per-epoch curve"
        epochs = recorded.epochs
        for key in curves:
            steps = [m.step for m in client.get_metric_history(recorded.run_id, key)]
            epochs = len(steps) if epochs is None else epochs
            assert steps == list(range(epochs)) and epochs >= 1, (key, steps)
        for name in recorded.registered:
            info = mlflow.models.get_model_info(f"models:/{name}@candidate")
            assert info.signature is not None and info.signature.inputs, name
        self.check_record(recorded)

    def test_bad_argument_exits_2_before_tensorflow(self, tmp_path, bad_argument):
        argv, option = bad_argument
        result = subprocess.run(
            [sys.executable, "-c", ARGUMENT_PROBE, str(RECIPES / f"{self.recipe}.py"), *argv],
            capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert result.stdout.strip().splitlines()[-1] == "EXIT 2 TENSORFLOW False", \
            result.stdout + result.stderr
        assert f"argument {option}:" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


class _BatchCounter:
    """Counts the batches of each epoch (a Keras callback, made lazily so that
    this module imports without Keras)."""

    def __new__(cls):
        import keras

        class BatchCounter(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.batches = []

            def on_epoch_begin(self, epoch, logs=None):
                self.batches.append(0)

            def on_train_batch_end(self, batch, logs=None):
                self.batches[-1] += 1

        return BatchCounter()


def parametrize(metafunc) -> None:
    """Gives each family's checks its own kill points and bad arguments
    (called from tests/conftest.py's `pytest_generate_tests`)."""
    family = metafunc.cls
    if family is None or not issubclass(family, FamilyContract):
        return
    if "kill_point" in metafunc.fixturenames:
        metafunc.parametrize("kill_point", family.kill_points,
                             ids=[f"epoch{e}-batch{b}" for e, b in family.kill_points])
    if "bad_argument" in metafunc.fixturenames:
        metafunc.parametrize("bad_argument", family.bad_arguments,
                             ids=[" ".join(argv) for argv, _ in family.bad_arguments])


def mark_slow(items) -> None:
    """Marks each family's `SLOW_CHECKS` slow (called from tests/conftest.py)."""
    for item in items:
        family = getattr(item, "cls", None)
        if (family is not None and issubclass(family, FamilyContract)
                and item.originalname in family.SLOW_CHECKS):
            item.add_marker(pytest.mark.slow)
