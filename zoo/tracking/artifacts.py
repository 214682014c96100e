"""What a run keeps besides metrics: the configuration, plots, the data set's
identity, and the trained model. Each helper writes to the active MLflow run
(inside zoo.tracking.tracked_run).
"""

from __future__ import annotations

import enum
import functools
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping

from zoo.compat import create_mlflow_example_folder_first
from zoo.quiet import no_progress_bars
from zoo.errors import TrackingError
from zoo.tracking.params import flatten_config

_log = logging.getLogger(__name__)

CONFIG_ARTIFACT = "config.json"
PLOTS_FOLDER = "plots"
# Rows of the input example kept with the model: MLflow stores it as JSON, where
# one 224x224 RGB image already takes about 0.6 MB.
MAX_EXAMPLE_ROWS = 2


def log_config(config: Mapping, artifact_file: str = CONFIG_ARTIFACT, sep: str = ".") -> dict:
    """Log a resolved configuration: every leaf as a param, the whole as a file.

    On a resumed run the params it already holds stay as they are (MLflow
    refuses to change a param); a changed value is logged as a warning, and the
    file is replaced by the new configuration.

    Args:
        config: the configuration the recipe runs with (nested mappings,
            lists, paths... anything flatten_config takes).
        artifact_file: its name in the run; ".json" or ".yaml"/".yml".
        sep: joins nested keys in param names.

    Returns:
        The params logged now (flattened, as strings).
    """
    import mlflow

    run = mlflow.active_run()
    if run is None:
        raise TrackingError("log_config needs an active run: call it inside tracked_run(...).")
    existing = mlflow.get_run(run.info.run_id).data.params
    params = flatten_config(config, sep=sep)
    new = {key: value for key, value in params.items() if key not in existing}
    changed = sorted(key for key, value in params.items()
                     if key in existing and existing[key] != value)
    if changed:
        _log.warning("Run %s keeps its earlier values of %s; the new ones are in %s.",
                     run.info.run_id, ", ".join(changed), artifact_file)
    if new:
        mlflow.log_params(new)
    # A JSON round trip turns paths, tuples and enums into plain values for JSON and YAML alike.
    plain = json.loads(json.dumps(config, default=_plain))
    mlflow.log_dict(plain, artifact_file)
    return new


def log_plot(plot, artifact_file: str | None = None) -> str:
    """Log a matplotlib figure or an image file under `plots/`.

    Args:
        plot: a matplotlib Figure, or the path of a file (PNG, SVG, HTML...).
        artifact_file: its name under `plots/` (required for a figure;
            default for a file: its own name).

    Returns:
        Its artifact path in the run, e.g. "plots/history.png".
    """
    import mlflow

    if isinstance(plot, (str, os.PathLike)):
        source = os.fspath(plot)
        name = artifact_file or os.path.basename(source)
        folder = "/".join(part for part in (PLOTS_FOLDER, os.path.dirname(name)) if part)
        if os.path.basename(name) == os.path.basename(source):
            mlflow.log_artifact(source, artifact_path=folder)
        else:  # log_artifact keeps the file's own name, so give it the new one first
            with tempfile.TemporaryDirectory() as scratch:
                renamed = os.path.join(scratch, os.path.basename(name))
                shutil.copyfile(source, renamed)
                mlflow.log_artifact(renamed, artifact_path=folder)
        return f"{PLOTS_FOLDER}/{name}"
    if not artifact_file:
        raise ValueError("log_plot needs artifact_file (e.g. 'history.png') for a figure.")
    path = f"{PLOTS_FOLDER}/{artifact_file}"
    mlflow.log_figure(plot, path)
    return path


# MLflow's store rejects dataset digests longer than this.
MLFLOW_MAX_DIGEST_LENGTH = 36


def log_dataset(name: str, source, digest: str, num_examples: int | None = None,
                profile: Mapping | None = None, context: str = "training"):
    """Record which data the run used, without copying the data.

    The run's "Datasets used" then shows the name, source and digest: two runs
    with the same digest saw the same data.

    Args:
        name: a short name, e.g. "tf_flowers" or "digits".
        source: where it was read: "tfds:NAME", a folder (made absolute) or an
            embedded set's name.
        digest: a fingerprint of the data. MLflow keeps at most 36
            characters of it; a longer one is cut there and kept whole in the
            profile (`full_digest`).
        num_examples: how many examples, when known.
        profile: other facts worth seeing in the UI (classes, image size...).
        context: the dataset's role in the run: "training", "validation", "test".

    Returns:
        The mlflow.data Dataset that was logged.
    """
    import mlflow

    facts = dict(profile or {})
    if len(digest) > MLFLOW_MAX_DIGEST_LENGTH:
        facts["full_digest"] = digest
        digest = digest[:MLFLOW_MAX_DIGEST_LENGTH]
    if num_examples is not None:
        facts["num_examples"] = int(num_examples)
    dataset = _meta_dataset(name=name, source=_source_text(source), digest=digest,
                            profile=json.loads(json.dumps(facts, default=_plain)))
    mlflow.log_input(dataset, context=context)
    return dataset


# What a saved zoo model needs to serve: it loads with plain Keras, so zoo
# itself is not among them.
_SERVING_MODULES = ("mlflow", "keras", "numpy", "tensorflow")


@functools.lru_cache(maxsize=1)
def serving_requirements() -> tuple[str, ...]:
    """The pinned requirements of a logged zoo model, from the installed versions.

    Each module's distribution is the installed one that provides it: a
    `tensorflow-cpu` install is pinned as `tensorflow-cpu`, as MLflow's own
    inference does, and `mlflow` as `mlflow` rather than its parts.
    """
    from importlib import metadata

    providers = metadata.packages_distributions()
    pins = []
    for module in _SERVING_MODULES:
        found = sorted(set(providers.get(module, [])))
        if not found:
            continue
        dist = metadata.distribution(module if module in found else found[0])
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()  # PEP 503's form
        pins.append(f"{name}=={dist.version}")
    return tuple(pins)


def log_keras_model(model, input_example, name: str = "model",
                    registered_model_name: str | None = None, **log_model_kwargs):
    """Log a Keras model with a signature and an input example.

    The signature comes from the example and the model's prediction on it, so
    a classifier fed uint8 images gets input `uint8 (-1, H, W, C)` and output
    `float32 (-1, classes)`: serving then accepts raw images, as the model does.

    Args:
        model: the Keras model.
        input_example: a small batch of model inputs, e.g. uint8 images
            (N, H, W, C); only its first MAX_EXAMPLE_ROWS rows are stored.
        name: the model's name within the run.
        registered_model_name: also register it under this name (MLflow's own
            option; zoo.tracking.register_candidate also sets the alias).
        log_model_kwargs: passed on to mlflow.keras.log_model. Without
            `pip_requirements`, the model's are serving_requirements(): what
            MLflow's inference finds for a zoo model, without the subprocess
            it starts to load the model (about 15 s on 2 CPU cores).

    Returns:
        mlflow.models.model.ModelInfo; `.model_uri` loads it back with
        mlflow.keras.load_model.
    """
    import mlflow.keras
    import numpy as np
    from mlflow.models import infer_signature

    example = np.asarray(input_example)[:MAX_EXAMPLE_ROWS]
    signature = infer_signature(example, model.predict(example, verbose=0))
    create_mlflow_example_folder_first()
    log_model_kwargs.setdefault("pip_requirements", list(serving_requirements()))
    # MLflow predicts on the example again to check it, with Keras's default
    # progress bar, which would land in the middle of a recipe's output.
    with no_progress_bars():
        return mlflow.keras.log_model(model, name=name, signature=signature,
                                      input_example=example,
                                      registered_model_name=registered_model_name,
                                      **log_model_kwargs)


def _source_text(source) -> str:
    text = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    return os.path.abspath(text) if os.path.isdir(text) else text


def _meta_dataset(name: str, source: str, digest: str, profile: dict):
    """An MLflow MetaDataset (metadata only) that also shows a profile."""
    source_class, dataset_class = _dataset_classes()
    return dataset_class(source_class(source), name=name, digest=digest, profile=profile)


@functools.cache
def _dataset_classes():
    # Built on first use: their MLflow base classes are not imported before then.
    from mlflow.data.dataset_source import DatasetSource
    from mlflow.data.meta_dataset import MetaDataset

    class ZooDataSource(DatasetSource):
        """A zoo source string; MLflow's resolvers know folders and URLs, not "tfds:NAME"."""

        def __init__(self, uri: str):
            self.uri = uri

        @staticmethod
        def _get_source_type() -> str:
            return "zoo"

        def load(self, **kwargs):
            raise NotImplementedError("Load zoo data with zoo.data, from this source string.")

        @staticmethod
        def _can_resolve(raw_source) -> bool:
            return False

        @classmethod
        def _resolve(cls, raw_source):
            return cls(str(raw_source))

        def to_dict(self) -> dict:
            return {"uri": self.uri}

        @classmethod
        def from_dict(cls, source_dict):
            return cls(source_dict["uri"])

    class ProfiledMetaDataset(MetaDataset):
        """MetaDataset has no profile; this one shows the facts it is given."""

        def __init__(self, source, name, digest, profile):
            self._profile = profile or None
            super().__init__(source, name=name, digest=digest)

        @property
        def profile(self):
            return self._profile

        def to_dict(self) -> dict:
            config = super().to_dict()
            if self._profile:
                config["profile"] = json.dumps(self._profile)
            return config

    return ZooDataSource, ProfiledMetaDataset


def _plain(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)
