"""Every touch of another package's private or internal API, in one place.

zoo leans on a few internals that no public API offers. Each shim below
names the versions it was checked with. When an internal has moved, the
shim raises `CompatError` naming the package, its installed version and the
versions that work, instead of an AttributeError deep inside a search.
`tests/test_compat.py` checks every internal listed here, so an upgrade
that moves one fails there first.

    keras-tuner  private Tuner methods zoo's trial loop calls or overrides,
                 keras_tuner.src's SaveBestEpoch callback, and the chief
                 oracle's gRPC service and bookkeeping, which zoo serves
                 itself to bound how long a chief waits for its workers
    TensorFlow   ops._gradient_registry, to drop a finished trial's gradients;
                 util._pywrap_util_port.IsMklEnabled, whether oneDNN is on
    MLflow       mlflow.keras.save._save_example, wrapped to work around
                 mlflow/mlflow#16183

pyproject.toml bounds keras-tuner and MLflow below their next minor
versions, so that a new release is only taken once these shims pass.
"""

from __future__ import annotations

import inspect
import os
from importlib.metadata import PackageNotFoundError, version

from zoo.errors import CompatError

# The versions each shim was checked with (tests/test_compat.py, with these installed).
KERAS_TUNER_CHECKED = "1.4.8"
TENSORFLOW_CHECKED = "2.21"
MLFLOW_CHECKED = "3.17.2"

# keras_tuner.Tuner's private methods that zoo calls or overrides, with the
# parameters zoo passes.
KERAS_TUNER_METHODS = {
    "_deepcopy_callbacks": ("self", "callbacks"),
    "_get_checkpoint_fname": ("self", "trial_id"),
    "_build_and_fit_model": ("self", "trial", "args", "kwargs"),
    "_build_hypermodel": ("self", "hp"),  # overridden by zoo's Hyperband
}
SAVE_BEST_EPOCH_PARAMETERS = ("self", "objective", "filepath")
MLFLOW_SAVE_EXAMPLE_PARAMETERS = ("mlflow_model", "input_example", "path")


def moved(package: str, what: str, checked: str, detail: str = "") -> CompatError:
    """The error for an internal that is not where zoo expects it.

    Args:
        package: the distribution name, e.g. "keras-tuner".
        what: the internal, e.g. "keras_tuner.Tuner._get_checkpoint_fname".
        checked: the versions the shim was checked with.
        detail: what was found instead.
    """
    try:
        installed = version(package)
    except PackageNotFoundError:
        installed = "(not installed)"
    found = f" ({detail})" if detail else ""
    return CompatError(
        f"zoo relies on {what} of {package}, checked with {package} {checked}; the installed "
        f"{package} {installed} does not have it{found}. Install a checked version "
        f"(pip install '{package}' with the bounds in zoo's pyproject.toml), or update "
        f"zoo/compat.py for {package} {installed}.")


def _parameter_names(function) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


def _check_parameters(package, what, checked, function, expected) -> None:
    found = _parameter_names(function)
    if found != tuple(expected):
        raise moved(package, f"{what}({', '.join(expected)})", checked,
                    f"its parameters are ({', '.join(found)})")


# ---------------------------------------------------------------------------
# keras-tuner


def check_keras_tuner() -> None:
    """Fail at once, clearly, if a private keras-tuner API zoo uses has moved.

    zoo's Hyperband overrides `_build_hypermodel`: were it renamed, the
    override would silently never run, so this is checked when
    zoo.tuning.tuners is imported, not when the method is first called.

    Raises:
        CompatError: a method is missing or takes other parameters.
    """
    import keras_tuner

    for name, parameters in KERAS_TUNER_METHODS.items():
        method = getattr(keras_tuner.Tuner, name, None)
        if method is None:
            raise moved("keras-tuner", f"keras_tuner.Tuner.{name}", KERAS_TUNER_CHECKED)
        _check_parameters("keras-tuner", f"keras_tuner.Tuner.{name}", KERAS_TUNER_CHECKED,
                          method, parameters)
    _check_parameters("keras-tuner", "keras_tuner.src.engine.tuner_utils.SaveBestEpoch",
                      KERAS_TUNER_CHECKED, _save_best_epoch_class().__init__,
                      SAVE_BEST_EPOCH_PARAMETERS)


def _save_best_epoch_class():
    try:
        from keras_tuner.src.engine.tuner_utils import SaveBestEpoch
    except ImportError as exc:
        raise moved("keras-tuner", "keras_tuner.src.engine.tuner_utils.SaveBestEpoch",
                    KERAS_TUNER_CHECKED, str(exc)) from None
    return SaveBestEpoch


def save_best_epoch(objective, filepath: str):
    """keras-tuner's callback that saves a trial's best epoch's weights to `filepath`."""
    return _save_best_epoch_class()(objective=objective, filepath=filepath)


def tuner_deepcopy_callbacks(tuner, callbacks) -> list:
    """Per-trial copies of the callbacks given to `search()`, as keras-tuner makes them."""
    return tuner._deepcopy_callbacks(callbacks)


def tuner_checkpoint_path(tuner, trial_id) -> str:
    """Where keras-tuner keeps a trial's best weights."""
    return tuner._get_checkpoint_fname(trial_id)


def tuner_build_and_fit(tuner, trial, *args, **kwargs):
    """keras-tuner's own trial body: build the hypermodel and fit it."""
    return tuner._build_and_fit_model(trial, *args, **kwargs)


def tuner_build_hypermodel(tuner, hp):
    """keras_tuner.Tuner's own `_build_hypermodel`, for an override to call first."""
    import keras_tuner

    return keras_tuner.Tuner._build_hypermodel(tuner, hp)


def is_distributed() -> bool:
    """Whether keras-tuner's variables make this process a chief or worker."""
    from keras_tuner.src.distribute import utils

    return utils.has_chief_oracle()


def is_chief() -> bool:
    """Whether keras-tuner's variables make this process the chief oracle."""
    from keras_tuner.src.distribute import utils

    return utils.is_chief_oracle()


def chief_oracle_service(oracle) -> tuple:
    """keras-tuner's gRPC service for `oracle`: (servicer, add_to_server).

    `add_to_server(answerer, grpc_server)` serves the calls with `answerer`'s
    methods (the servicer, or a wrapper of it). The servicer's
    `stop_triggered` turns True once a worker has been told the search is over.

    Raises:
        CompatError: keras_tuner.src.distribute.oracle_chief moved.
    """
    what = "keras_tuner.src.distribute.oracle_chief.OracleServicer"
    try:
        from keras_tuner.src import protos
        from keras_tuner.src.distribute.oracle_chief import OracleServicer
    except ImportError as exc:
        raise moved("keras-tuner", what, KERAS_TUNER_CHECKED, str(exc)) from None
    servicer = OracleServicer(oracle)
    if not hasattr(servicer, "stop_triggered"):
        raise moved("keras-tuner", f"{what}.stop_triggered", KERAS_TUNER_CHECKED)
    return servicer, protos.get_service_grpc().add_OracleServicer_to_server


def oracle_waits_for(oracle) -> tuple[dict, set]:
    """What a chief oracle still waits for: ({tuner id: trial id} of the
    trials handed out and not ended, tuner ids not yet told to stop).

    keras-tuner's chief may exit when both are empty.
    """
    ongoing = getattr(oracle, "ongoing_trials", None)
    tuner_ids = getattr(oracle, "tuner_ids", None)
    if not isinstance(ongoing, dict) or not isinstance(tuner_ids, set):
        raise moved("keras-tuner", "keras_tuner.Oracle.ongoing_trials / tuner_ids",
                    KERAS_TUNER_CHECKED)
    return ({tuner: trial.trial_id for tuner, trial in list(ongoing.items())},
            set(tuner_ids))


# ---------------------------------------------------------------------------
# TensorFlow


def custom_gradient_registry() -> dict:
    """TensorFlow's global registry of gradient functions (name -> function).

    Graph-mode `tf.custom_gradient` registers a "CustomGradient-N" entry at
    every trace and never removes it; zoo's tuners drop a finished trial's
    entries (see zoo.tuning.tuners).

    Raises:
        CompatError: `tensorflow.python.framework.ops._gradient_registry` moved.
    """
    what = "tensorflow.python.framework.ops._gradient_registry._registry"
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError) as exc:
        raise moved(_tensorflow_distribution(), what, TENSORFLOW_CHECKED, str(exc)) from None
    if not isinstance(registry, dict):
        raise moved(_tensorflow_distribution(), what, TENSORFLOW_CHECKED,
                    f"it is a {type(registry).__name__}, not a dict")
    return registry


def onednn_enabled() -> bool:
    """Whether TensorFlow runs oneDNN's kernels in this process (its default on
    Intel CPUs with AVX512_VNNI, AVX512_BF16 or AMX; TF_ENABLE_ONEDNN_OPTS sets it).

    Raises:
        CompatError: `tensorflow.python.util._pywrap_util_port.IsMklEnabled` moved.
    """
    what = "tensorflow.python.util._pywrap_util_port.IsMklEnabled"
    try:
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError) as exc:
        raise moved(_tensorflow_distribution(), what, TENSORFLOW_CHECKED, str(exc)) from None


def _tensorflow_distribution() -> str:
    for name in ("tensorflow-cpu", "tensorflow"):
        try:
            version(name)
            return name
        except PackageNotFoundError:
            continue
    return "tensorflow"


# ---------------------------------------------------------------------------
# MLflow


def mlflow_save_example():
    """`mlflow.keras.save._save_example`, after checking its parameters.

    Raises:
        CompatError: it is gone or takes other parameters.
    """
    import mlflow.keras.save as keras_save

    write_example = getattr(keras_save, "_save_example", None)
    if write_example is None:
        raise moved("mlflow", "mlflow.keras.save._save_example", MLFLOW_CHECKED)
    if not getattr(write_example, "creates_folder", False):
        _check_parameters("mlflow", "mlflow.keras.save._save_example", MLFLOW_CHECKED,
                          write_example, MLFLOW_SAVE_EXAMPLE_PARAMETERS)
    return write_example


def create_mlflow_example_folder_first() -> None:
    """Work around mlflow/mlflow#16183 (open in MLflow 3.17).

    mlflow.keras.save_model writes input_example.json before it creates the
    model's folder, so log_model with an input example fails with
    FileNotFoundError. Wrapping the writer to create the folder first is
    harmless once MLflow fixes the order. Patching twice wraps once.
    """
    import mlflow.keras.save as keras_save

    write_example = mlflow_save_example()
    if getattr(write_example, "creates_folder", False):
        return

    def write_example_into_new_folder(mlflow_model, input_example, path):
        os.makedirs(path, exist_ok=True)
        return write_example(mlflow_model, input_example, path)

    write_example_into_new_folder.creates_folder = True
    keras_save._save_example = write_example_into_new_folder
