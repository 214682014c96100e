"""Pix2Pix under the family contract (tests/family_contract.py): exact resume
after kill -9 (both networks, both optimizers and so the schedule, the
dropout random state, each epoch's data order and jitter), the shipped
generator in plain Keras, `fit()`, the recipe's MLflow record and its bad
arguments."""

import json

import numpy as np
import pytest
from PIL import Image

from family_contract import FamilyContract, RecordedRun

CONFIG = dict(image_size=32, epochs=2, decay_epochs=1, ngf=8, ndf=8, seed=5)
PAIRS = 24
TINY = ["--image-size", "32", "--epochs", "1", "--decay-epochs", "1", "--ngf", "4",
        "--fid", "none"]


def _networks(size=32):
    import keras

    from zoo.gan.patchgan import patchgan_discriminator
    from zoo.gan.pix2pix.unet import unet_generator

    keras.utils.set_random_seed(1)
    return unet_generator(size, ngf=4), patchgan_discriminator(6, ndf=4)


def _pairs_folder(root, count=10, size=32):
    """Side-by-side A|B images where B is A upside down: a mapping to learn."""
    rng = np.random.RandomState(0)
    root.mkdir()
    for index in range(count):
        a = rng.randint(0, 256, (size, size, 3)).astype(np.uint8)
        Image.fromarray(np.concatenate([a, a[::-1]], axis=1)).save(root / f"{index:02d}.png")
    return root


class TestPix2PixContract(FamilyContract):
    recipe = "pix2pix"
    kill_points = ((1, PAIRS // 2),)
    batches_per_epoch = PAIRS
    bad_arguments = (
        (["--image-size", "100"], "--image-size"),  # not a power of two
        (["--image-size", "16"], "--image-size"),
        (["--data", "tfds:facades"], "--data"),  # TFDS has no paired format
        (["--data", "no/such/folder"], "--data"),
        (["--epochs", "0", "--decay-epochs", "0"], "--epochs"),
        (["--direction", "sideways"], "--direction"),
        (["--n-layers-d", "0"], "--n-layers-d"),
        (["--image-size", "32", "--n-layers-d", "4"], "--n-layers-d"),  # needs 48 px
    )
    SLOW_CHECKS = FamilyContract.SLOW_CHECKS | {"test_mlflow_record"}

    def train(self, checkpoint_dir, *, resume=False, callbacks=()):
        from zoo.data.pairs import load_pairs
        from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix

        data = load_pairs("edges2photos", 32, augment=False, shuffle=False)
        return train_pix2pix(Pix2PixConfig(**CONFIG), data.train.take(PAIRS), data.test.take(4),
                             checkpoint_dir=checkpoint_dir, resume=resume,
                             callbacks=callbacks, verbose=0)

    def state_of(self, result):
        model = result.model
        return (model.generator.get_weights() + model.discriminator.get_weights()
                + [v.numpy() for v in model.g_optimizer.variables]
                + [v.numpy() for v in model.d_optimizer.variables])

    def saved_models(self, folder):
        from zoo.gan.inference import uint8_model, with_image_statistics

        generator, _ = _networks()
        rng = np.random.RandomState(0)
        for weight in generator.trainable_weights:  # biases too, so every weight matters
            weight.assign(rng.normal(0, 0.1, weight.shape))
        images = rng.randint(0, 256, (2, 32, 32, 3)).astype("uint8")
        # As the recipe ships it in each test mode.
        shipped = {"paper": uint8_model(with_image_statistics(generator)),
                   "deterministic": uint8_model(generator)}
        for name, model in shipped.items():
            model.save(folder / f"{name}.keras")
        return {name: (model, images) for name, model in shipped.items()}

    def fit_model(self):
        import keras
        import tensorflow as tf

        from zoo.gan.pix2pix.model import TRAIN_METRICS, VALIDATION_METRICS, Pix2Pix

        rng = np.random.RandomState(0)
        a, b = (rng.randint(0, 256, (8, 32, 32, 3)).astype("uint8") for _ in range(2))
        data = tf.data.Dataset.from_tensor_slices((a, b)).batch(2)
        model = Pix2Pix(*_networks())
        model.compile(keras.optimizers.Adam(2e-4, beta_1=0.5),
                      keras.optimizers.Adam(2e-4, beta_1=0.5))
        return model, data, data, TRAIN_METRICS + tuple(f"val_{n}" for n in VALIDATION_METRICS)

    def record(self, workdir, load_recipe):
        import contextlib
        import io

        uri = f"sqlite:///{workdir}/mlflow.db"
        data = _pairs_folder(workdir / "pairs")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = load_recipe("pix2pix").main(
                TINY + ["--data", str(data), "--tracking-uri", uri, "--register", "flipper"])
        return RecordedRun(uri, result.run_id, epochs=2, registered=["flipper"],
                           output=printed.getvalue(), result=result)

    def check_record(self, recorded):
        import keras
        import mlflow

        out, result = recorded.output, recorded.result
        assert "Held-out pairs" in out and "input (identity)" in out and "L1-only U-Net" in out
        assert "every baseline on held-out PSNR" in out and "zoo translate" in out

        client = mlflow.MlflowClient(recorded.uri)
        run = client.get_run(recorded.run_id)
        assert run.data.params["pix2pix.gan_loss"] == "vanilla"
        assert {"epoch/g_gan", "epoch/g_l1", "epoch/d_real", "epoch/d_fake", "epoch/val_psnr",
                "epoch/val_l1", "epoch/val_ssim", "epoch/l1_only_val_psnr", "lr"} <= set(
                    run.data.metrics)
        scores = run.data.metrics
        assert {"test/psnr", "test/l1", "test/ssim", "test/input_identity_psnr",
                "test/l1_only_u_net_psnr"} <= set(scores)
        saved = json.loads((result.output / "scores.json").read_text())
        assert scores["test/psnr"] == pytest.approx(saved["pix2pix"]["psnr"])

        # A sample grid per epoch, on disk and in the run (the UI's image slider).
        assert sorted(p.name for p in (result.output / "samples").iterdir()) == [
            "epoch-0001.png", "epoch-0002.png"]
        images = [a.path for a in client.list_artifacts(recorded.run_id, "images")]
        assert len([p for p in images if p.startswith("images/samples")]) >= 2
        assert {"results.html", "evaluation"} <= {
            a.path for a in client.list_artifacts(recorded.run_id)}
        description = run.data.tags["mlflow.note.content"]
        assert "**pairs**" in description or "Pix2Pix at 32 px" in description

        # The generator: uint8 in, uint8 out, as a .keras file, a SavedModel and
        # in the registry.
        model = keras.saving.load_model(result.output / "generator.keras", safe_mode=True)
        assert model.input.dtype == "uint8"
        assert (result.output / "generator_savedmodel" / "saved_model.pb").is_file()
        logged = mlflow.keras.load_model("models:/flipper@candidate")
        batch = np.zeros((1, 32, 32, 3), np.uint8)
        np.testing.assert_array_equal(np.asarray(logged(batch)), np.asarray(model(batch)))
        signature = mlflow.models.get_model_info("models:/flipper@candidate").signature
        assert "uint8" in str(signature.inputs) and "uint8" in str(signature.outputs)
