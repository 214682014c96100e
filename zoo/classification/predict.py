"""Classify image files and folders with a saved classifier: `zoo predict`.

    zoo predict MODEL IMAGE_OR_FOLDER... [--top-k K] [--csv OUT]

    >>> from zoo.classification.predict import predict_paths
    >>> for p in predict_paths("flowers.keras", ["photos/"], top_k=3):
    ...     print(p.path, p.labels[0], p.probabilities[0])

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

Images are decoded exactly as the training data loader decodes them
(`zoo.data.images.decode_resized`): EXIF orientation applied, grayscale and
palette converted to RGB, transparency composited over white, bilinear
resize to the model's input size, uint8 pixels. Folders are walked
recursively in sorted order; hidden files and folders (names starting with
'.') are skipped, and so is every file PIL cannot read as an image, whatever
its extension. The skips are counted on stderr.

Output: one line per image, tab-separated: the path, then the top-k
`label:probability` pairs, most probable first. `--csv OUT` writes the same
in long form, one row per image and rank: `path,rank,label,probability`
(rank 1 is the most probable). Long form keeps the columns the same for any
k and loads straight into a data frame.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import os
import re
import sys
import tempfile
import warnings

import numpy as np

from zoo.errors import ZooError

CLASS_NAMES_FILE = "class_names.json"
DEFAULT_TOP_K = 5
DEFAULT_BATCH_SIZE = 32
CSV_HEADER = ("path", "rank", "label", "probability")
MAX_LISTED_SKIPS = 5

# "models:/x", "runs:/x", "s3://x"... A one-letter scheme would be a Windows
# drive ("C:\\model.keras"), so schemes need two letters at least.
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


class PredictError(ZooError, ValueError):
    """A model, input or option of `zoo predict` that cannot be used."""


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The most probable classes of one image.

    Args:
        path: the image file, as found (joined to the folder given).
        labels: class names (or indices as text), most probable first.
        probabilities: the probability of each label, same order.
        class_indices: the class index of each label, same order.
    """

    path: str
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    class_indices: tuple[int, ...]

    def format_line(self) -> str:
        """The path and the `label:probability` pairs, tab-separated."""
        pairs = (f"{label}:{probability:.4f}"
                 for label, probability in zip(self.labels, self.probabilities))
        return "\t".join([self.path, *pairs])


# ---------------------------------------------------------------------------
# Models and class names


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


# ---------------------------------------------------------------------------
# Input files


def collect_image_files(paths, on_skip=None) -> list[str]:
    """Expand files and folders into the candidate image files, in order.

    Folders are walked recursively and sorted; hidden entries in them
    (names starting with '.') are skipped. Files named directly are kept
    even when hidden. A file met twice is listed once.

    Args:
        paths: image files and folders.
        on_skip: called as on_skip(path, reason) for each hidden entry.

    Raises:
        PredictError: a path does not exist.
    """
    files, seen = [], set()
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            found = _walk_folder(path, on_skip)
        elif os.path.exists(path):
            found = [path]
        else:
            raise PredictError(f"IMAGE_OR_FOLDER '{path}' does not exist.")
        for file in found:
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def _walk_folder(folder: str, on_skip) -> list[str]:
    files = []
    for root, dirs, names in os.walk(folder):
        for hidden in sorted(d for d in dirs if d.startswith(".")):
            _skip(on_skip, os.path.join(root, hidden), "hidden")
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(root, name)
            if name.startswith("."):
                _skip(on_skip, path, "hidden")
            elif os.path.isfile(path):  # not a FIFO, socket or broken link
                files.append(path)
    # Sorted by whole path, as `find | sort` lists them: a folder's files and
    # its subfolders' files interleave by name.
    return sorted(files)


def read_image(path: str, size: tuple[int, int]) -> np.ndarray:
    """Decode one image the way training data is decoded (see the module doc).

    Args:
        path: the image file.
        size: (height, width) to resize to.

    Returns:
        uint8 array of shape (height, width, 3).

    Raises:
        zoo.data.images.UnusableImage: the file is not a usable image.
    """
    from zoo.data.images import decode_resized

    return decode_resized(path, size)


# ---------------------------------------------------------------------------
# Prediction


def predict_paths(model, paths, top_k: int = DEFAULT_TOP_K, class_names=None,
                  batch_size: int = DEFAULT_BATCH_SIZE, *, image_size=None, on_skip=None,
                  progress: bool = False) -> list[Prediction]:
    """Classify image files and every image in folders.

    Args:
        model: a Keras classifier returning class probabilities, or a
            MODEL reference as `load_model_and_class_names` takes (its
            class_names.json is then used when class_names is None).
        paths: image files and folders (walked recursively).
        top_k: how many classes to report per image (at most all of them).
        class_names: name of each class index; None gives the indices.
        batch_size: images per model call.
        image_size: (height, width) to resize to; defaults to the model's
            input size.
        on_skip: called as on_skip(path, reason) for each hidden entry or
            file that is not a usable image. Without it, one warning sums
            them up.
        progress: show a progress bar on stderr.

    Returns:
        One `Prediction` per usable image, in input order.

    Raises:
        PredictError: a path is missing, no usable image was found, the
            model cannot be loaded, or an argument is out of range.
    """
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise PredictError(f"top_k must be a positive integer. Received: top_k={top_k!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise PredictError(
            f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    # One path on its own is a common slip; iterating it would give characters.
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    skipped = []

    def skip(path, reason):
        skipped.append((path, reason))
        if on_skip is not None:
            on_skip(path, reason)

    # Inputs first: a typo in a path should not cost a model load.
    files = collect_image_files(paths, skip)
    if isinstance(model, (str, os.PathLike)):
        model, stored_names = load_model_and_class_names(model)
        if class_names is None:
            class_names = stored_names
    size = tuple(image_size) if image_size is not None else model_image_size(model)

    predictions = []
    bar = _ProgressBar(len(files)) if progress else None
    batch_paths, batch_images = [], []
    for done, path in enumerate(files, start=1):
        image = _read_or_skip(path, size, skip)
        if image is not None:
            batch_paths.append(path)
            batch_images.append(image)
        if len(batch_images) == batch_size or (done == len(files) and batch_images):
            # Pad a short last batch only when the full-size one already ran.
            pad_to = batch_size if len(predictions) else len(batch_images)
            probabilities = _predict_batch(model, batch_images, pad_to)
            predictions += _top_k(batch_paths, probabilities, top_k, class_names)
            batch_paths, batch_images = [], []
        if bar is not None:
            bar.update(done)

    if not predictions:
        raise PredictError(
            f"No usable image found in {', '.join(map(str, paths))} "
            f"({_skip_summary(skipped) or 'nothing to read'}).")
    if skipped and on_skip is None:
        warnings.warn(f"zoo predict {_skip_summary(skipped)}", stacklevel=2)
    return predictions


def _predict_batch(model, images: list, pad_to: int) -> np.ndarray:
    """Class probabilities of a list of images, one model call on `pad_to` images."""
    batch = np.stack(images)
    missing = pad_to - len(batch)
    if missing > 0:
        # A batch of a new size makes Keras trace the model again, which
        # takes longer than predicting a few blank images.
        batch = np.concatenate([batch, np.zeros((missing, *batch.shape[1:]), batch.dtype)])
    return np.asarray(model.predict_on_batch(batch))[:len(images)]


def _read_or_skip(path: str, size, skip) -> np.ndarray | None:
    from zoo.data.images import UnusableImage

    try:
        return read_image(path, size)
    except UnusableImage as exc:
        skip(path, str(exc))
        return None


def _top_k(paths, probabilities: np.ndarray, top_k: int, class_names) -> list[Prediction]:
    num_classes = probabilities.shape[-1]
    if class_names is not None and len(class_names) != num_classes:
        raise PredictError(f"{len(class_names)} class names were given but the model has "
                           f"{num_classes} outputs; name every output, in order.")
    k = min(top_k, num_classes)
    # A stable sort keeps equal probabilities in class order.
    ranked = np.argsort(-probabilities, axis=-1, kind="stable")[:, :k]
    results = []
    for path, row, order in zip(paths, probabilities, ranked):
        results.append(Prediction(
            path=path,
            labels=tuple(str(class_names[i]) if class_names is not None else str(int(i))
                         for i in order),
            probabilities=tuple(float(row[i]) for i in order),
            class_indices=tuple(int(i) for i in order),
        ))
    return results


class _ProgressBar:
    """keras' Progbar, drawn on stderr so that stdout stays pure results."""

    def __init__(self, total: int):
        import keras

        with contextlib.redirect_stdout(sys.stderr):
            self._bar = keras.utils.Progbar(total, unit_name="image")

    def update(self, done: int) -> None:
        with contextlib.redirect_stdout(sys.stderr):
            self._bar.update(done)


def _skip(on_skip, path: str, reason: str) -> None:
    if on_skip is not None:
        on_skip(path, reason)


def _skip_summary(skipped) -> str:
    """'skipped 3 files: 1 hidden, 2 not images (a.txt: not an image (...); ...)'."""
    if not skipped:
        return ""
    hidden = [path for path, reason in skipped if reason == "hidden"]
    unusable = [(path, reason) for path, reason in skipped if reason != "hidden"]
    parts = []
    if hidden:
        parts.append(f"{len(hidden)} hidden")
    if unusable:
        listed = "; ".join(f"{path}: {reason}" for path, reason in unusable[:MAX_LISTED_SKIPS])
        more = (f"; and {len(unusable) - MAX_LISTED_SKIPS} more"
                if len(unusable) > MAX_LISTED_SKIPS else "")
        kind = "not an image" if len(unusable) == 1 else "not images"
        parts.append(f"{len(unusable)} {kind} ({listed}{more})")
    noun = "file" if len(skipped) == 1 else "files"
    return f"skipped {len(skipped)} {noun}: {', '.join(parts)}"


def write_csv(predictions, path: str) -> int:
    """Write predictions as `path,rank,label,probability` rows (rank 1 = best).

    Args:
        predictions: `Prediction`s.
        path: the CSV file to write (overwritten).

    Returns:
        The number of rows written, header not counted.
    """
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_HEADER)
        for prediction in predictions:
            for rank, (label, probability) in enumerate(
                    zip(prediction.labels, prediction.probabilities), start=1):
                writer.writerow([prediction.path, rank, label, f"{probability:.6f}"])
                rows += 1
    return rows


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"


# ---------------------------------------------------------------------------
# CLI


def _positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def add_predict_command(subparsers):
    """Add `predict` to the `zoo` command's subparsers.

    Args:
        subparsers: what `parser.add_subparsers()` returned.

    Returns:
        The `predict` parser.
    """
    predict = subparsers.add_parser(
        "predict", help="classify image files and folders with a saved classifier",
        description="Classify images with a saved classifier. Prints one line per image: "
                    "the path, then the top-k label:probability pairs, tab-separated. "
                    f"Class names come from a {CLASS_NAMES_FILE} (a JSON list, entry i "
                    "naming class i) next to the .keras file or among the MLflow model's "
                    "artifacts; without one, class indices are printed.")
    predict.add_argument("model", metavar="MODEL",
                         help=".keras file or MLflow model URI (models:/NAME@champion, "
                              "runs:/RUN_ID/model)")
    predict.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                         help="image files and folders (searched recursively; hidden files "
                              "and non-images are skipped)")
    predict.add_argument("--top-k", type=_positive_int, default=DEFAULT_TOP_K, metavar="K",
                         help=f"classes to print per image (default {DEFAULT_TOP_K})")
    predict.add_argument("--csv", metavar="OUT", default=None,
                         help="also write path,rank,label,probability rows to this CSV file")
    predict.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE,
                         metavar="N", help=f"images per model call (default {DEFAULT_BATCH_SIZE})")
    predict.set_defaults(func=_cmd_predict)
    return predict


def _cmd_predict(args) -> int:
    skipped = []
    files = collect_image_files(args.inputs, lambda path, reason: skipped.append((path, reason)))
    if args.csv:
        folder = os.path.dirname(os.path.abspath(args.csv))
        if not os.path.isdir(folder):
            raise PredictError(f"--csv {args.csv}: the folder {folder} does not exist.")
    model, class_names = load_model_and_class_names(args.model)
    # The bar only where a person watches: its redraws would litter a log file.
    show_progress = len(files) > args.batch_size and sys.stderr.isatty()
    predictions = predict_paths(model, files, top_k=args.top_k, class_names=class_names,
                                batch_size=args.batch_size,
                                on_skip=lambda path, reason: skipped.append((path, reason)),
                                progress=show_progress)
    for prediction in predictions:
        print(prediction.format_line())
    if skipped:
        print(f"zoo predict: {_skip_summary(skipped)}", file=sys.stderr)
    if args.csv:
        try:
            rows = write_csv(predictions, args.csv)
        except OSError as exc:
            raise PredictError(f"--csv {args.csv}: cannot write ({exc.strerror or exc}).") \
                from None
        print(f"zoo predict: wrote {rows} rows to {args.csv}", file=sys.stderr)
    return 0
