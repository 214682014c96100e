"""The classifier under the family contract (tests/family_contract.py): resume
after kill -9 in either phase, the saved classifier in plain Keras (one
backbone per preprocessing mode), `fit()`, the recipe's MLflow record and its
bad arguments."""

import contextlib
import io
import json
import sys
from pathlib import Path

import keras
import numpy as np

from family_contract import FamilyContract, RecordedRun
from zoo.classification.classifier import build_classifier
from zoo.classification.config import ClassifierConfig

HERE = Path(__file__).resolve().parent
CONFIG = dict(backbone="mobilenet_v3_small", image_size=32, weights=None, epochs=3,
              batch_size=16, fine_tune_blocks=2, fine_tune_epochs=3, patience=10,
              learning_rate=1e-2)
# One backbone per preprocessing mode.
SAVED_BACKBONES = ["resnet50", "xception", "densenet121", "mobilenet_v3_small"]
TINY = ["--backbone", "mobilenet_v3_small", "--image-size", "32", "--epochs", "2",
        "--fine-tune-epochs", "1", "--batch-size", "64", "--weights", "none"]


def _colour_dataset(*args, **kwargs):
    # tests/classification/conftest.py: images whose class is their main colour.
    sys.path.insert(0, str(HERE))
    from conftest import colour_dataset

    return colour_dataset(*args, **kwargs)


class TestClassifierContract(FamilyContract):
    recipe = "classify"
    # The whole recipe with its MLflow model and registry takes a minute and a
    # half, the plain-Keras load half a minute: `make test` keeps under 8 minutes.
    SLOW_CHECKS = FamilyContract.SLOW_CHECKS | {"test_mlflow_record",
                                                "test_saved_model_loads_without_zoo"}
    # 3 batches an epoch; epochs 0-2 train the head, 3-5 fine-tune.
    kill_points = ((1, 1), (4, 1))
    bad_arguments = (
        (["--backbone", "resnet5"], "--backbone"),
        (["--image-size", "4"], "--image-size"),  # below every default backbone's minimum
        (["--backbone", "inception_v3", "--image-size", "64"], "--image-size"),
        (["--data", "no/such/folder"], "--data"),
        (["--weights", "missing.weights.h5"], "--weights"),
        (["--dropout", "1.5"], "--dropout"),
        (["--learning-rate", "0"], "--learning-rate"),
        (["--fine-tune-blocks", "99"], "--fine-tune-blocks"),
    )

    def train(self, checkpoint_dir, *, resume=False, callbacks=()):
        from zoo.classification import FeatureCache, TrainConfig, train_classifier

        checkpoint_dir = Path(checkpoint_dir)
        train, _, _ = _colour_dataset(48, seed=0)
        val, _, _ = _colour_dataset(24, seed=1)
        return train_classifier(
            TrainConfig(**CONFIG), train, val, 3, checkpoint_dir=checkpoint_dir, resume=resume,
            feature_cache=FeatureCache(checkpoint_dir.parent / "features"), callbacks=callbacks,
            extra_state={"run_id": "run-123"}, verbose=0)

    def assert_same_state(self, resumed, uninterrupted):
        # Close, not bit-identical: the killed process wrote the phase-1
        # feature cache that the resumed one reads.
        assert resumed.state["extra"]["run_id"] == "run-123"
        assert resumed.phase_boundary == uninterrupted.phase_boundary == 3
        for key in ("loss", "val_loss", "val_accuracy", "lr"):
            np.testing.assert_allclose(resumed.history[key], uninterrupted.history[key],
                                       rtol=1e-3, atol=1e-5, err_msg=key)
        images = np.random.default_rng(9).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
        np.testing.assert_allclose(resumed.model.predict(images, verbose=0),
                                   uninterrupted.model.predict(images, verbose=0),
                                   rtol=1e-3, atol=1e-4)

    def saved_models(self, folder):
        import zoo

        models = {}
        for name in SAVED_BACKBONES:
            size = zoo.backbone_info(name).min_size
            model = zoo.create_classifier(name, 3, weights=None, input_shape=size, head="mlp",
                                          hidden_units=8)
            images = np.random.default_rng(3).integers(0, 256, (2, size, size, 3),
                                                       dtype=np.uint8)
            model.save(folder / f"{name}.keras")
            models[name] = (model, images)
        return models

    def fit_model(self):
        import keras

        import zoo

        train, _, _ = _colour_dataset(48, seed=0)
        val, _, _ = _colour_dataset(24, seed=1)
        keras.utils.set_random_seed(0)
        model = zoo.create_classifier("mobilenet_v3_small", 3, weights=None, input_shape=32)
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model, train, val, ("loss", "accuracy", "val_loss", "val_accuracy")

    def record(self, workdir, load_recipe):
        uri = f"sqlite:///{workdir}/mlflow.db"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            load_recipe("classify").main(TINY + ["--tracking-uri", uri,
                                                 "--register", "digits_clf"])
        out = printed.getvalue()
        # From scratch, 2 + 1 epochs, all in phase 2 (early stopping may end it sooner).
        return RecordedRun(uri, out.split("MLflow run: ")[1].split()[0], epochs=None,
                           registered=["digits_clf"], output=out)

    def check_record(self, recorded):
        import mlflow

        out = recorded.output
        assert "Test accuracy:" in out and "MLflow run: " in out and "zoo ui" in out
        assert "majority class (" in out and "logistic regression on 8x8x3 pixels" in out

        client = mlflow.MlflowClient(recorded.uri)
        run = client.get_run(recorded.run_id)
        params = run.data.params
        assert params["train.backbone"] == "mobilenet_v3_small" and params["data"] == "digits"
        assert {"epoch/loss", "epoch/val_loss", "epoch/accuracy", "epoch/val_accuracy",
                "lr"} <= set(run.data.metrics)
        # Headline scores only: no per-class metrics.
        for split in ("test", "val"):
            assert {f"{split}/accuracy", f"{split}/top_5_accuracy", f"{split}/macro_f1",
                    f"{split}/majority_class_accuracy", f"{split}/logistic_accuracy"} <= set(
                        run.data.metrics)
        assert not [key for key in run.data.metrics if "precision" in key or "recall" in key]
        description = run.data.tags["mlflow.note.content"]
        assert "**digits**: mobilenet_v3_small at 32 px" in description
        assert "| majority class" in description and "models:/digits_clf/1" in description

        artifacts = {a.path for a in client.list_artifacts(recorded.run_id)}
        assert {"config.json", "class_names.json", "classifier_config.json", "plots",
                "evaluation"} <= artifacts
        plots = {a.path for a in client.list_artifacts(recorded.run_id, "plots")}
        assert {"plots/learning_curves.png", "plots/confusion_matrix_val.png",
                "plots/misclassified_val.png"} <= plots
        tables = {a.path for a in client.list_artifacts(recorded.run_id, "evaluation")}
        assert {"evaluation/test_per_class.json", "evaluation/val_per_class.json"} <= tables

        model = mlflow.keras.load_model("models:/digits_clf@candidate")
        images = np.zeros((2, 32, 32, 3), "uint8")
        assert model.predict(images, verbose=0).shape == (2, 10)
        metrics = run.data.metrics
        if metrics["val/accuracy"] > metrics["val/majority_class_accuracy"]:
            assert str(client.get_model_version_by_alias("digits_clf", "champion").version) == "1"
        else:  # 3 epochs from scratch may stay at chance level: never a champion then
            assert "majority-class" in client.get_model_version("digits_clf", "1").tags[
                "zoo.not_promoted"]
            assert "zoo.warning.val" in run.data.tags

        saved = Path("runs") / "classify" / "mobilenet_v3_small_digits_32px"
        assert json.loads((saved / "class_names.json").read_text()) == [str(i) for i in range(10)]
        assert (saved / "model.keras").is_file()
        # The model's part of the config travels with it, and builds it again.
        classifier = ClassifierConfig.from_dict(
            json.loads((saved / "classifier_config.json").read_text()))
        assert (classifier.backbone, classifier.image_size) == ("mobilenet_v3_small", 32)
        rebuilt = build_classifier(classifier, 10, weights=None)
        rebuilt.set_weights(keras.models.load_model(saved / "model.keras").get_weights())
