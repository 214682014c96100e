"""recipes/pix2pix.py end to end on a tiny folder of pairs, and what it
leaves on disk and in MLflow."""

import json

import numpy as np
import pytest
from PIL import Image

TINY = ["--image-size", "32", "--epochs", "1", "--decay-epochs", "1", "--ngf", "4",
        "--fid", "none"]


def _pairs_folder(root, count=10, size=32):
    """Side-by-side A|B images where B is A upside down: a mapping to learn."""
    rng = np.random.RandomState(0)
    root.mkdir()
    for index in range(count):
        a = rng.randint(0, 256, (size, size, 3)).astype(np.uint8)
        Image.fromarray(np.concatenate([a, a[::-1]], axis=1)).save(root / f"{index:02d}.png")
    return root


@pytest.mark.slow
def test_pix2pix_records_a_complete_run(workdir, capsys, load_recipe):
    import mlflow

    uri = f"sqlite:///{workdir}/mlflow.db"
    data = _pairs_folder(workdir / "pairs")
    result = load_recipe("pix2pix").main(TINY + ["--data", str(data), "--tracking-uri", uri,
                                         "--register", "flipper"])
    out = capsys.readouterr().out
    assert "Held-out pairs" in out and "input (identity)" in out and "L1-only U-Net" in out
    assert "every baseline on held-out PSNR" in out and "zoo translate" in out

    client = mlflow.MlflowClient(uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["pix2pix.gan_loss"] == "vanilla" and run.data.tags["zoo.recipe"] == \
        "pix2pix"
    for key in ("epoch/g_gan", "epoch/g_l1", "epoch/d_real", "epoch/d_fake", "epoch/val_psnr",
                "epoch/val_l1", "epoch/val_ssim", "epoch/l1_only_val_psnr", "lr"):
        assert [m.step for m in client.get_metric_history(result.run_id, key)] == [0, 1], key
    scores = run.data.metrics
    assert {"test/psnr", "test/l1", "test/ssim", "test/input_identity_psnr",
            "test/l1_only_u_net_psnr"} <= set(scores)
    saved = json.loads((result.output / "scores.json").read_text())
    assert scores["test/psnr"] == pytest.approx(saved["pix2pix"]["psnr"])

    # A sample grid per epoch, on disk and in the run (the UI's image slider).
    assert sorted(p.name for p in (result.output / "samples").iterdir()) == [
        "epoch-0001.png", "epoch-0002.png"]
    images = [a.path for a in client.list_artifacts(result.run_id, "images")]
    assert len([p for p in images if p.startswith("images/samples")]) >= 2
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"results.html", "evaluation"} <= artifacts
    description = run.data.tags["mlflow.note.content"]
    assert "**pairs**" in description or "Pix2Pix at 32 px" in description

    # The generator: uint8 in, uint8 out, as a .keras file, a SavedModel and in
    # the registry.
    import keras

    model = keras.saving.load_model(result.output / "generator.keras", safe_mode=True)
    assert model.input.dtype == "uint8"
    assert (result.output / "generator_savedmodel" / "saved_model.pb").is_file()
    logged = mlflow.keras.load_model("models:/flipper@candidate")
    batch = np.zeros((1, 32, 32, 3), np.uint8)
    np.testing.assert_array_equal(np.asarray(logged(batch)), np.asarray(model(batch)))
    signature = mlflow.models.get_model_info("models:/flipper@candidate").signature
    assert "uint8" in str(signature.inputs) and "uint8" in str(signature.outputs)


def test_bad_arguments_exit_2_before_any_work(capsys, load_recipe):
    recipe = load_recipe("pix2pix")
    for argv, words in ((["--image-size", "100"], "power of two"),
                        (["--image-size", "16"], "--image-size"),
                        (["--data", "tfds:facades"], "TFDS has no paired-image format"),
                        (["--data", "no/such/folder"], "not a folder"),
                        (["--epochs", "0", "--decay-epochs", "0"], "at least 1 epoch"),
                        (["--direction", "sideways"], "--direction"),
                        (["--n-layers-d", "0"], "--n-layers-d"),
                        (["--image-size", "32", "--n-layers-d", "4"], "at least 48 px")):
        with pytest.raises(SystemExit) as exit_info:
            recipe.parse_args(argv)
        assert exit_info.value.code == 2
        assert words in capsys.readouterr().err, argv
