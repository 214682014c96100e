"""recipes/cyclegan.py end to end on the embedded domains and on a folder,
and what it leaves on disk, in MLflow and for `zoo translate`."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from tolerances import assert_same_image_up_to_rounding

TINY = ["--image-size", "24", "--epochs", "1", "--decay-epochs", "0", "--ngf", "4",
        "--fid", "none"]
# Loads both saved generators where zoo cannot be imported, and runs them.
PLAIN_KERAS = textwrap.dedent(
    """
    import sys
    sys.modules["zoo"] = None  # any import of zoo now fails
    import numpy as np
    import keras
    images = np.load("in.npy")
    for direction in ("AtoB", "BtoA"):
        model = keras.saving.load_model(f"generators/generator_{direction}.keras",
                                        safe_mode=True)
        np.save(f"{direction}.npy", keras.ops.convert_to_numpy(model(images)))
    """
)


@pytest.mark.slow
def test_cyclegan_on_embedded_domains_records_a_complete_run(workdir, capsys, load_recipe):
    import keras
    import mlflow
    import tensorflow as tf

    from zoo import cli

    uri = f"sqlite:///{workdir}/mlflow.db"
    result = load_recipe("cyclegan").main(TINY + ["--tracking-uri", uri, "--register", "swap"])
    out = capsys.readouterr().out
    for words in ("A -> B, against the true mapping", "B -> A, against the true mapping",
                  "identity", "CycleGAN", "paired (upper bound)", "--direction AtoB|BtoA"):
        assert words in out, words

    # Three rows per direction, the same in scores.json and in the run.
    saved = json.loads((result.output / "scores.json").read_text())
    assert set(saved) == {"AtoB", "BtoA"}
    client = mlflow.MlflowClient(uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    for direction, rows in saved.items():
        assert list(rows) == ["identity", "CycleGAN", "paired (upper bound)"]
        assert run.data.metrics[f"test/{direction}/psnr"] == \
            pytest.approx(rows["CycleGAN"]["psnr"])
        assert f"test/{direction}/identity_psnr" in run.data.metrics
        assert f"test/{direction}/paired_upper_bound_psnr" in run.data.metrics
    for key in ("epoch/cycle_a", "epoch/identity_b", "epoch/d_a", "epoch/g_gan_ab",
                "epoch/val_psnr_ab", "epoch/val_psnr_ba", "epoch/val_cycle_l1_a"):
        assert [m.step for m in client.get_metric_history(result.run_id, key)] == [0], key
    assert run.data.params["cyclegan.n_blocks"] == "6"
    images = [a.path for a in client.list_artifacts(result.run_id, "images")]
    assert any(p.startswith("images/samples") for p in images)
    assert {"results.html", "evaluation"} <= {a.path for a in
                                              client.list_artifacts(result.run_id)}

    # Both generators: uint8 in and out, any size, plain Keras, SavedModels that
    # give the same outputs, registered, and picked by `zoo translate --direction`.
    rng = np.random.default_rng(0)
    odd = rng.integers(0, 256, (2, 28, 36, 3), dtype=np.uint8)
    np.save(result.output / "in.npy", odd)
    loaded = subprocess.run([sys.executable, "-c", PLAIN_KERAS], cwd=result.output,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    for direction in ("AtoB", "BtoA"):
        model = keras.saving.load_model(
            result.output / "generators" / f"generator_{direction}.keras", safe_mode=True)
        expected = np.asarray(model(odd))
        assert expected.dtype == np.uint8 and expected.shape == odd.shape
        np.testing.assert_array_equal(np.load(result.output / f"{direction}.npy"), expected)
        exported = tf.saved_model.load(str(result.output / f"savedmodel_{direction}"))
        # The SavedModel runs as one optimised graph, which fuses ops that the
        # Keras model runs one by one: a rare pixel may round the other way.
        assert_same_image_up_to_rounding(exported.serve(tf.constant(odd)).numpy(), expected)
        registered = mlflow.keras.load_model(f"models:/swap-{direction}@candidate")
        np.testing.assert_array_equal(np.asarray(registered(odd)), expected)

        Image.fromarray(odd[0]).save(workdir / "odd.png")
        code = cli.main(["translate", str(result.output / "generators"),
                         str(workdir / "odd.png"), "--direction", direction,
                         "--out", str(workdir / direction)])
        assert code == 0
        np.testing.assert_array_equal(np.asarray(Image.open(workdir / direction / "odd.png")),
                                      expected[0])


@pytest.mark.slow
def test_cyclegan_on_folders_without_a_true_mapping(workdir, capsys, load_recipe):
    rng = np.random.default_rng(1)
    for folder in ("trainA", "trainB", "testA", "testB"):
        (workdir / "domains" / folder).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).save(
                workdir / "domains" / folder / f"{index}.png")
    result = load_recipe("cyclegan").main(TINY + ["--data", str(workdir / "domains"),
                                                  "--tracking-uri", f"sqlite:///{workdir}/m.db"])
    out = capsys.readouterr().out
    assert "No true mapping is known for this data" in out
    assert result.rows == {} and result.upper == {}
    assert {p.name for p in (result.output / "generators").iterdir()} == {
        "generator_AtoB.keras", "generator_BtoA.keras"}
    assert sorted(p.name for p in (result.output / "samples").iterdir()) == ["epoch-0001.png"]


def test_bad_arguments_exit_2_before_any_work(capsys, load_recipe):
    recipe = load_recipe("cyclegan")
    for argv, words in ((["--image-size", "30"], "multiple of 4"),
                        (["--image-size", "20"], "--image-size"),
                        (["--data", "no/such/folder"], "not a folder"),
                        (["--generator", "resnet7"], "invalid choice"),
                        (["--lambda-identity", "-1"], "--lambda-identity"),
                        (["--epochs", "0", "--decay-epochs", "0"], "at least 1 epoch")):
        with pytest.raises(SystemExit) as exit_info:
            recipe.parse_args(argv)
        assert exit_info.value.code == 2
        assert words in capsys.readouterr().err, argv
