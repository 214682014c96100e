"""`zoo predict` and `predict_paths` on a tiny saved classifier and real image files."""

import argparse
import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.data.image_files import collect_image_files, read_image
from zoo.classification.model_io import CLASS_NAMES_FILE, load_model_and_class_names
from zoo.classification.predict import predict_paths
from zoo.classification.cli import add_commands as add_predict_command
from zoo.errors import ZooError

CLASS_NAMES = ["apple", "banana", "cherry"]
SIZE = 32
EXIF_ORIENTATION = 0x0112
RED, BLUE = (255, 0, 0), (0, 0, 255)
# Relative to the image folder: what predict should read, in output order.
IMAGES = ["gray.png", "nested/deeper/small.jpg", "rgb.png", "rgba.png", "rotated.jpg"]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A 3-class classifier saved as model.keras with a class_names.json beside it."""
    folder = tmp_path_factory.mktemp("model")
    model = zoo.create_classifier("mobilenet_v3_small", 3, weights=None, input_shape=SIZE)
    path = folder / "model.keras"
    model.save(path)
    (folder / CLASS_NAMES_FILE).write_text(json.dumps(CLASS_NAMES))
    return path, model


def _left_red_right_blue(width, height):
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(folder / "rgb.png")
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8), "L").save(folder / "gray.png")
    rgba = rng.integers(0, 256, (30, 30, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    # Stored 40 wide and 20 high, left red, right blue; orientation 6 means
    # "rotate 90 degrees clockwise to display": 20 wide, 40 high, red on top.
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    _left_red_right_blue(40, 20).save(folder / "rotated.jpg", exif=exif, quality=95)
    (folder / "nested" / "deeper").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
        folder / "nested" / "deeper" / "small.jpg")
    (folder / "notes.txt").write_text("not an image")
    Image.new("RGB", (8, 8)).save(folder / ".hidden.png")
    (folder / ".cache").mkdir()
    Image.new("RGB", (8, 8)).save(folder / ".cache" / "thumb.png")
    return folder


def _zoo_predict(argv):
    """Parse and run `zoo predict ...` the way the main CLI will."""
    parser = argparse.ArgumentParser(prog="zoo")
    add_predict_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["predict", *map(str, argv)])
    return args.func(args)


def test_exif_orientation_is_applied(image_folder):
    pixels = read_image(str(image_folder / "rotated.jpg"), (40, 20))
    assert pixels.shape == (40, 20, 3) and pixels.dtype == np.uint8
    top, bottom = pixels[5, 10].astype(int), pixels[35, 10].astype(int)
    assert top[0] > 200 and top[2] < 60  # red
    assert bottom[2] > 200 and bottom[0] < 60  # blue


def test_folders_are_walked_by_the_data_scanner(tmp_path):
    """Broken links, links to folders and FIFOs are skipped with the data layer's reasons."""
    Image.new("RGB", (8, 8)).save(tmp_path / "b.png")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "sub" / "a.png")
    (tmp_path / "a.png.txt").write_text("sorted by whole path, as find | sort lists")
    os.symlink(tmp_path / "nowhere.png", tmp_path / "broken.png")
    os.symlink(tmp_path / "sub", tmp_path / "loop")
    os.mkfifo(tmp_path / "pipe")
    skipped = {}
    files = collect_image_files([tmp_path, tmp_path / "sub" / "a.png"],
                                lambda path, reason: skipped.setdefault(path, reason))
    assert files == [str(tmp_path / name) for name in ("a.png.txt", "b.png", "sub/a.png")]
    assert skipped == {
        str(tmp_path / "broken.png"): "broken symlink (its target does not exist)",
        str(tmp_path / "loop"): "symlink to a folder, not followed (avoids loops)",
        str(tmp_path / "pipe"): "not a regular file (socket, FIFO or device)",
    }
    # A FIFO named directly is skipped too, never opened (that would block).
    assert collect_image_files([tmp_path / "pipe"], lambda *skip: None) == []


def test_cli_prints_top_k_per_image_and_writes_csv(saved_model, image_folder, tmp_path, capsys):
    model_path, _ = saved_model
    out = tmp_path / "predictions.csv"
    assert _zoo_predict([model_path, image_folder, "--top-k", "2", "--csv", out]) == 0
    captured = capsys.readouterr()

    lines = captured.out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(image_folder / p) for p in IMAGES]
    for line in lines:
        pairs = [pair.rsplit(":", 1) for pair in line.split("\t")[1:]]
        assert len(pairs) == 2
        assert all(label in CLASS_NAMES for label, _ in pairs)
        probabilities = [float(p) for _, p in pairs]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1.0001
    assert "skipped 3 files: 2 hidden, 1 not an image" in captured.err
    assert "notes.txt" in captured.err

    with open(out, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["path", "rank", "label", "probability"]
    assert len(rows) == 1 + 2 * len(IMAGES)
    assert [row[1] for row in rows[1:5]] == ["1", "2", "1", "2"]
    first = lines[0].split("\t")
    assert rows[1] == [first[0], "1", *first[1].rsplit(":", 1)[:1], rows[1][3]]
    assert float(rows[1][3]) == pytest.approx(float(first[1].rsplit(":", 1)[1]), abs=1e-4)


def test_predictions_match_the_model_in_batches(saved_model, image_folder):
    model_path, model = saved_model
    skipped = []
    predictions = predict_paths(str(model_path), [image_folder], top_k=5, batch_size=2,
                                on_skip=lambda path, reason: skipped.append(path))
    assert len(predictions) == len(IMAGES) and len(skipped) == 3
    # top_k is capped at the three classes, names come from class_names.json.
    assert all(sorted(p.labels) == CLASS_NAMES for p in predictions)
    images = np.stack([read_image(str(image_folder / p), (SIZE, SIZE)) for p in IMAGES])
    expected = np.asarray(model(images, training=False))
    for prediction, row in zip(predictions, expected):
        np.testing.assert_allclose(prediction.probabilities, row[list(prediction.class_indices)],
                                   rtol=1e-4, atol=1e-6)
        assert prediction.labels == tuple(CLASS_NAMES[i] for i in prediction.class_indices)


def test_without_class_names_labels_are_indices(saved_model, image_folder, capsys):
    _, model = saved_model
    with pytest.warns(UserWarning, match="skipped 3 files"):
        predictions = predict_paths(model, [image_folder], top_k=1, batch_size=2,
                                    progress=True)
    assert all(p.labels[0] in {"0", "1", "2"} for p in predictions)
    # The progress bar counts candidate files (notes.txt too) and stays off
    # stdout, which is for results.
    captured = capsys.readouterr()
    assert captured.out == "" and f"{len(IMAGES) + 1}/{len(IMAGES) + 1}" in captured.err
    # A file named directly is used even when hidden.
    hidden = predict_paths(model, image_folder / ".hidden.png", class_names=CLASS_NAMES)
    assert hidden[0].path.endswith(".hidden.png") and len(hidden[0].labels) == 3


def test_missing_model_names_the_argument(image_folder, tmp_path):
    missing = tmp_path / "nowhere.keras"
    with pytest.raises(ZooError, match=f"MODEL '{missing}' does not exist"):
        _zoo_predict([missing, image_folder])


def test_a_file_that_is_not_a_model(image_folder, tmp_path):
    bogus = tmp_path / "bogus.keras"
    bogus.write_text("not a zip")
    with pytest.raises(ZooError, match=f"MODEL '{bogus}' could not be loaded as a Keras model"):
        _zoo_predict([bogus, image_folder])


def test_bad_inputs_and_options(saved_model, image_folder, tmp_path, capsys):
    model_path, _ = saved_model
    with pytest.raises(ZooError, match="IMAGE_OR_FOLDER '.*missing.png' does not exist"):
        _zoo_predict([model_path, tmp_path / "missing.png"])
    with pytest.raises(ZooError, match="No usable image found"):
        _zoo_predict([model_path, image_folder / "notes.txt"])
    with pytest.raises(ZooError, match="--csv .*: the folder .* does not exist"):
        _zoo_predict([model_path, image_folder, "--csv", tmp_path / "no" / "out.csv"])
    (tmp_path / CLASS_NAMES_FILE).write_text('["just one"]')
    copy = tmp_path / "model.keras"
    copy.write_bytes(model_path.read_bytes())
    with pytest.raises(ZooError, match="lists 1 class names but the model has 3 outputs"):
        _zoo_predict([copy, image_folder])
    with pytest.raises(SystemExit):
        _zoo_predict([model_path, image_folder, "--top-k", "0"])
    assert "must be a positive integer" in capsys.readouterr().err


def test_help_documents_the_class_names_convention(capsys):
    with pytest.raises(SystemExit) as exited:
        _zoo_predict(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "class_names.json" in text and "--top-k" in text and "--csv" in text


@pytest.fixture(scope="module")
def mlflow_experiment(tmp_path_factory):
    """A private sqlite tracking store (made once: creating one takes seconds)."""
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.chdir(folder)  # anything MLflow writes by default lands here
        mlflow.set_tracking_uri(uri)
        try:
            yield mlflow.create_experiment(
                "predict-test", artifact_location=(folder / "artifacts").as_uri())
        finally:
            mlflow.set_tracking_uri(None)


def test_mlflow_runs_uri(saved_model, image_folder, mlflow_experiment, tmp_path, capsys):
    import mlflow

    _, model = saved_model
    names_file = tmp_path / CLASS_NAMES_FILE
    names_file.write_text(json.dumps(["x", "y", "z"]))
    with mlflow.start_run(experiment_id=mlflow_experiment) as run:
        # Explicit requirements: inferring them would take seconds.
        info = mlflow.keras.log_model(model, name="model", pip_requirements=["keras"])
        # The convention: class_names.json among the model's own artifacts.
        mlflow.MlflowClient().log_model_artifact(info.model_id, str(names_file))

    assert _zoo_predict([f"runs:/{run.info.run_id}/model", image_folder / "rgb.png",
                         "--top-k", "1"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.split("\t")[0] == str(image_folder / "rgb.png")
    assert line.split("\t")[1].split(":")[0] in {"x", "y", "z"}


def test_mlflow_registered_alias_with_run_level_class_names(saved_model, image_folder,
                                                            mlflow_experiment):
    import mlflow

    _, model = saved_model
    with mlflow.start_run(experiment_id=mlflow_experiment):
        info = mlflow.keras.log_model(model, name="model", pip_requirements=["keras"])
        # The fallback: class names at the root of the run that logged the model.
        mlflow.log_dict(["p", "q", "r"], CLASS_NAMES_FILE)
    version = mlflow.register_model(info.model_uri, "fruit")
    mlflow.MlflowClient().set_registered_model_alias("fruit", "champion", version.version)

    predictions = predict_paths("models:/fruit@champion", [image_folder / "gray.png"])
    assert sorted(predictions[0].labels) == ["p", "q", "r"]


def test_unresolvable_mlflow_uri(mlflow_experiment):
    with pytest.raises(ZooError, match="MODEL 'models:/flowers@champion' could not be loaded"):
        load_model_and_class_names("models:/flowers@champion")
    with pytest.raises(ZooError, match="MODEL 'runs:/0123456789abcdef/model' could not be"):
        load_model_and_class_names("runs:/0123456789abcdef/model")
