"""Load a saved classifier and the class names stored with it.

MODEL is a `.keras` file, or an MLflow model URI (`models:/NAME@champion`,
`models:/NAME/3`, `runs:/RUN_ID/model`, or a local MLflow model folder).
`.keras` files load with `keras.models.load_model(path, safe_mode=True)`.

Class names (the convention training code follows): a JSON list of strings,
entry i naming class i, in a file called `class_names.json`

* next to the `.keras` file (`flowers.keras` + `class_names.json` in the
  same folder), or
* among the MLflow model's artifacts, next to its MLmodel file (after
  `info = mlflow.keras.log_model(...)`:
  `MlflowClient().log_model_artifact(info.model_id, "class_names.json")`),
  or else at the root of the run that logged the model
  (`mlflow.log_dict(class_names, "class_names.json")`).

Without one, labels are the class indices ("0", "1", ...).
"""

from __future__ import annotations

import json
import os
import re
import tempfile

from zoo.errors import PredictError

CLASS_NAMES_FILE = "class_names.json"

# "models:/x", "runs:/x", "s3://x"... A one-letter scheme would be a Windows
# drive ("C:\\model.keras"), so schemes need two letters at least.
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def load_model_and_class_names(model_ref: str):
    """Load a classifier and the class names stored with it.

    Args:
        model_ref: a `.keras` file, a local MLflow model folder, or an MLflow
            model URI (`models:/NAME@alias`, `runs:/RUN_ID/model`, ...). A path
            that exists wins over reading it as a URI.

    Returns:
        (model, class_names): class_names is None without a
        `class_names.json` (see the module doc).

    Raises:
        PredictError: the file is missing or no Keras model, the URI cannot
            be resolved, or class_names.json is unusable. The message names
            the MODEL argument.
    """
    model_ref = os.fspath(model_ref)
    if os.path.isdir(model_ref) and os.path.isfile(os.path.join(model_ref, "MLmodel")):
        return _load_mlflow_model(model_ref)
    if not os.path.exists(model_ref) and _URI_SCHEME.match(model_ref):
        return _load_mlflow_model(model_ref)
    return _load_keras_file(model_ref)


def read_class_names(path: str) -> list[str]:
    """Read a `class_names.json` file: a JSON list, entry i naming class i.

    Args:
        path: the JSON file.

    Raises:
        PredictError: it cannot be read or is not a list of names.
    """
    try:
        with open(path, encoding="utf-8") as file:
            names = json.load(file)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PredictError(f"Cannot read class names from {path}: {exc}. It must be a JSON "
                           'list of names, entry i naming class i, e.g. ["cat", "dog"].') from None
    if not isinstance(names, list) or not all(isinstance(n, (str, int)) for n in names):
        raise PredictError(f"Class names file {path} must hold a JSON list of names, entry i "
                           f'naming class i, e.g. ["cat", "dog"]; it holds a '
                           f"{type(names).__name__}.")
    return [str(name) for name in names]


def model_image_size(model) -> tuple[int, int]:
    """(height, width) of the images a model takes, from `model.input_shape`.

    Raises:
        PredictError: the model takes no single fixed-size RGB image input.
    """
    shape = getattr(model, "input_shape", None)
    if not (isinstance(shape, tuple) and len(shape) == 4):
        raise PredictError(f"The model takes inputs of shape {shape}; zoo predict needs a "
                           "model with one (batch, height, width, 3) image input.")
    _, height, width, channels = shape
    if channels not in (3, None):
        raise PredictError(f"The model takes {channels}-channel images; zoo predict feeds RGB.")
    if height is None or width is None:
        raise PredictError("The model accepts any image size, so zoo predict cannot tell what "
                           "to resize to; pass image_size=(height, width).")
    return int(height), int(width)


def _load_keras_file(path: str):
    if not os.path.exists(path):
        raise PredictError(
            f"MODEL '{path}' does not exist. Pass a .keras file saved with model.save() or an "
            "MLflow model URI such as models:/NAME@champion or runs:/RUN_ID/model.")
    if os.path.isdir(path):
        raise PredictError(
            f"MODEL '{path}' is a folder but not an MLflow model (it has no MLmodel file). "
            "Pass a .keras file or an MLflow model folder or URI.")
    import keras

    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        raise PredictError(
            f"MODEL '{path}' could not be loaded as a Keras model "
            f"({type(exc).__name__}: {_first_line(exc)}). Pass a .keras file saved with "
            "model.save('name.keras').") from exc
    names_path = os.path.join(os.path.dirname(os.path.abspath(path)), CLASS_NAMES_FILE)
    names = read_class_names(names_path) if os.path.isfile(names_path) else None
    _check_class_names(model, names, names_path)
    return model, names


def _load_mlflow_model(uri: str):
    try:
        import mlflow.artifacts
        import mlflow.keras
        from mlflow.models import Model
    except ImportError as exc:
        raise PredictError(f"MODEL '{uri}' is an MLflow model, which needs mlflow installed "
                           f"(pip install mlflow): {exc}") from None

    with tempfile.TemporaryDirectory(prefix="zoo-predict-") as scratch:
        # Download once, then load and look for class names in the same copy.
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=os.path.join(scratch, "model"))
            model = mlflow.keras.load_model(local)
        except Exception as exc:  # noqa: BLE001 - MLflow and its stores raise many types
            raise PredictError(
                f"MODEL '{uri}' could not be loaded as an MLflow Keras model "
                f"({type(exc).__name__}: {_first_line(exc)}). Check the name, alias or run id, "
                "and that MLFLOW_TRACKING_URI points at the tracking server that holds "
                "it.") from exc
        names_path = os.path.join(local, CLASS_NAMES_FILE)
        if not os.path.isfile(names_path):
            names_path = _download_run_class_names(Model, local, scratch)
        names = read_class_names(names_path) if names_path else None
        _check_class_names(model, names, f"{CLASS_NAMES_FILE} of MODEL '{uri}'")
    return model, names


def _download_run_class_names(model_class, local_model_dir: str, scratch: str) -> str | None:
    """The class names file at the root of the run that logged the model, if any."""
    import mlflow.artifacts

    try:
        run_id = model_class.load(local_model_dir).run_id
        if not run_id:
            return None
        return mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=CLASS_NAMES_FILE,
            dst_path=os.path.join(scratch, "run"))
    except Exception:  # noqa: BLE001 - the file is optional; without it labels are indices
        return None


def _check_class_names(model, names, source: str) -> None:
    if names is None:
        return
    outputs = _num_outputs(model)
    if outputs is not None and len(names) != outputs:
        raise PredictError(f"{source} lists {len(names)} class names but the model has "
                           f"{outputs} outputs; it must name every output, in order.")


def _num_outputs(model) -> int | None:
    shape = getattr(model, "output_shape", None)
    if isinstance(shape, tuple) and shape and isinstance(shape[-1], int):
        return shape[-1]
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"
