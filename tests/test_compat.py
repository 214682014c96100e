"""Every private API zoo/compat.py relies on is where the shims expect it.

These fail loudly, naming the package and version, when an upgrade moves
an internal: run them before widening a version bound in pyproject.toml.
"""

import inspect
import os

import pytest

from zoo import compat


def test_keras_tuner_private_methods_and_callback_are_there():
    import keras_tuner

    compat.check_keras_tuner()  # raises CompatError, naming the version, if one moved
    for name, parameters in compat.KERAS_TUNER_METHODS.items():
        assert tuple(inspect.signature(getattr(keras_tuner.Tuner, name)).parameters) == \
            parameters, name
    callback = compat.save_best_epoch(keras_tuner.Objective("val_accuracy", "max"), "w.h5")
    assert callback.filepath == "w.h5" and callback.objective.name == "val_accuracy"


def test_tensorflow_gradient_registry_is_a_dict_of_names():
    import tensorflow as tf

    registry = compat.custom_gradient_registry()
    assert isinstance(registry, dict)

    @tf.function
    def traced(x):
        @tf.custom_gradient
        def identity(y):
            return y, lambda upstream: upstream

        return identity(x)

    before = {name for name in registry if name.startswith("CustomGradient-")}
    traced(tf.constant(1.0))
    # Graph-mode custom gradients land in the registry: what the tuners clean up.
    assert {name for name in registry if name.startswith("CustomGradient-")} - before


def test_onednn_state_follows_tf_enable_onednn_opts():
    import subprocess
    import sys

    for value, expected in (("0", "False"), ("1", "True")):
        result = subprocess.run(
            [sys.executable, "-c", "from zoo import compat; print(compat.onednn_enabled())"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": value, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert result.stdout.strip().splitlines()[-1] == expected, result.stderr[-2000:]


def test_mlflow_save_example_takes_model_example_and_path(tmp_path):
    write_example = compat.mlflow_save_example()
    if not getattr(write_example, "creates_folder", False):
        parameters = tuple(inspect.signature(write_example).parameters)
        assert parameters == compat.MLFLOW_SAVE_EXAMPLE_PARAMETERS

    compat.create_mlflow_example_folder_first()
    compat.create_mlflow_example_folder_first()  # a second call does not wrap again
    import mlflow.keras.save as keras_save
    from mlflow.models import Model

    assert keras_save._save_example.creates_folder
    folder = tmp_path / "not" / "yet"
    keras_save._save_example(Model(), [[1.0, 2.0]], str(folder))
    assert folder.is_dir() and any(folder.iterdir())


def test_a_moved_internal_names_the_package_and_its_version(monkeypatch):
    import keras_tuner

    monkeypatch.delattr(keras_tuner.Tuner, "_get_checkpoint_fname")
    with pytest.raises(compat.CompatError, match=r"keras_tuner\.Tuner\._get_checkpoint_fname "
                       r"of keras-tuner, checked with keras-tuner 1\.4\.8; the installed "
                       r"keras-tuner \d+\.\d+"):
        compat.check_keras_tuner()


def test_a_changed_signature_is_reported(monkeypatch):
    import mlflow.keras.save as keras_save

    monkeypatch.setattr(keras_save, "_save_example", lambda model, example: None)
    with pytest.raises(compat.CompatError, match=r"its parameters are \(model, example\)"):
        compat.mlflow_save_example()
