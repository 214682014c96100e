"""CycleGAN under the family contract (tests/family_contract.py): exact resume
after kill -9 (the four networks, both optimizers and so the schedule, both
image pools with their contents, fill counts and random state, each epoch's
data order and jitter; an epoch as long as the larger domain), both shipped
generators in plain Keras, `fit()`, the recipe's MLflow record and its bad
arguments."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from family_contract import FamilyContract, RecordedRun
from tolerances import assert_same_image_up_to_rounding

CONFIG = dict(image_size=32, epochs=2, decay_epochs=1, n_blocks=2, ngf=4, ndf=4, pool_size=5,
              seed=5)
COUNT_A, COUNT_B = 12, 8
TINY = ["--image-size", "24", "--epochs", "1", "--decay-epochs", "0", "--ngf", "4",
        "--fid", "none"]
# Loads both generators the recipe saved where zoo cannot be imported, and runs them.
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


def _networks():
    import keras

    from zoo.gan.cyclegan.resnet import resnet_generator
    from zoo.gan.patchgan import patchgan_discriminator

    keras.utils.set_random_seed(1)
    return (resnet_generator(1, ngf=4), resnet_generator(1, ngf=4),
            patchgan_discriminator(3, ndf=4, norm="instance"),
            patchgan_discriminator(3, ndf=4, norm="instance"))


class TestCycleGANContract(FamilyContract):
    recipe = "cyclegan"
    kill_points = ((1, COUNT_A // 2),)
    batches_per_epoch = max(COUNT_A, COUNT_B)  # never stops at the shorter domain
    bad_arguments = (
        (["--image-size", "30"], "--image-size"),  # not a multiple of 4
        (["--image-size", "20"], "--image-size"),
        (["--data", "no/such/folder"], "--data"),
        (["--generator", "resnet7"], "--generator"),
        (["--lambda-identity", "-1"], "--lambda-identity"),
        (["--epochs", "0", "--decay-epochs", "0"], "--epochs"),
    )
    # The record and the two saved generators take minutes; fit() half a one.
    SLOW_CHECKS = FamilyContract.SLOW_CHECKS | {"test_mlflow_record",
                                                "test_saved_model_loads_without_zoo",
                                                "test_fit_on_one_device"}

    def train(self, checkpoint_dir, *, resume=False, callbacks=()):
        from zoo.data.embedded import ground_truth
        from zoo.data.unpaired import load_unpaired
        from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan, validation_batches

        data = load_unpaired("color2sepia", 32, augment=False, shuffle=False)
        test = validation_batches(data.test_a.take(2), data.test_b.take(2),
                                  ground_truth("color2sepia"))
        return train_cyclegan(CycleGANConfig(**CONFIG), data.train_a.take(COUNT_A),
                              data.train_b.take(COUNT_B), test, checkpoint_dir=checkpoint_dir,
                              resume=resume, callbacks=callbacks, verbose=0)

    def state_of(self, result):
        model = result.model
        networks = (model.generator_ab, model.generator_ba, model.discriminator_a,
                    model.discriminator_b)
        return ([w for network in networks for w in network.get_weights()]
                + [v.numpy() for v in model.g_optimizer.variables + model.d_optimizer.variables]
                + [v.numpy() for pool in (model.pool_a, model.pool_b)
                   for v in (pool.images, pool.count, pool.seed, pool.draws)])

    def assert_same_state(self, resumed, uninterrupted):
        super().assert_same_state(resumed, uninterrupted)
        # The pools filled and then replayed (5 images, 36 fakes per domain).
        assert int(uninterrupted.model.pool_a.draws.numpy()) == 3 * COUNT_A - 5

    def saved_models(self, folder):
        from zoo.gan.cyclegan.resnet import resnet_generator, with_image_size

        # As training builds it (a fixed size), then as saved for inference (any size).
        fixed = resnet_generator(2, ngf=4, image_size=(20, 28))
        rng = np.random.RandomState(0)
        for weight in fixed.trainable_weights:  # biases too, so every weight matters
            weight.assign(rng.normal(0, 0.1, weight.shape))
        images = rng.uniform(-1, 1, (2, 20, 28, 3)).astype("float32")
        models = {"fixed_size": fixed, "any_size": with_image_size(fixed)}
        for name, model in models.items():
            model.save(folder / f"{name}.keras")
        return {name: (model, images) for name, model in models.items()}

    def fit_model(self):
        import keras
        import tensorflow as tf

        from zoo.gan.cyclegan.model import CycleGAN, TRAIN_METRICS

        rng = np.random.RandomState(0)
        a, b = (rng.randint(0, 256, (8, 32, 32, 3)).astype("uint8") for _ in range(2))
        data = tf.data.Dataset.from_tensor_slices((a, b)).batch(2)
        validation = tf.data.Dataset.from_tensor_slices({"a": a, "b": b, "true_b": b}).batch(2)
        model = CycleGAN(*_networks(), pool_size=3)
        model.compile(keras.optimizers.Adam(2e-4, beta_1=0.5),
                      keras.optimizers.Adam(2e-4, beta_1=0.5))
        return model, data, validation, TRAIN_METRICS + ("val_cycle_l1_a", "val_psnr_ab")

    def record(self, workdir, load_recipe):
        import contextlib
        import io

        uri = f"sqlite:///{workdir}/mlflow.db"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = load_recipe("cyclegan").main(
                TINY + ["--tracking-uri", uri, "--register", "swap"])
        return RecordedRun(uri, result.run_id, epochs=1, registered=["swap-AtoB", "swap-BtoA"],
                           output=printed.getvalue(), result=result)

    def check_record(self, recorded):
        import keras
        import mlflow
        import tensorflow as tf

        from zoo import cli

        out, result, workdir = recorded.output, recorded.result, recorded.result.output
        for words in ("A -> B, against the true mapping", "B -> A, against the true mapping",
                      "identity", "CycleGAN", "paired (upper bound)", "--direction AtoB|BtoA"):
            assert words in out, words

        # Three rows per direction, the same in scores.json and in the run.
        saved = json.loads((result.output / "scores.json").read_text())
        assert set(saved) == {"AtoB", "BtoA"}
        client = mlflow.MlflowClient(recorded.uri)
        run = client.get_run(recorded.run_id)
        for direction, rows in saved.items():
            assert list(rows) == ["identity", "CycleGAN", "paired (upper bound)"]
            assert run.data.metrics[f"test/{direction}/psnr"] == \
                pytest.approx(rows["CycleGAN"]["psnr"])
            assert f"test/{direction}/identity_psnr" in run.data.metrics
            assert f"test/{direction}/paired_upper_bound_psnr" in run.data.metrics
        assert {"epoch/cycle_a", "epoch/identity_b", "epoch/d_a", "epoch/g_gan_ab",
                "epoch/val_psnr_ab", "epoch/val_psnr_ba", "epoch/val_cycle_l1_a"} <= set(
                    run.data.metrics)
        assert run.data.params["cyclegan.n_blocks"] == "6"
        images = [a.path for a in client.list_artifacts(recorded.run_id, "images")]
        assert any(p.startswith("images/samples") for p in images)
        assert {"results.html", "evaluation"} <= {a.path for a in
                                                  client.list_artifacts(recorded.run_id)}

        # Both generators: uint8 in and out, any size, plain Keras, SavedModels
        # that give the same outputs, registered, and picked by
        # `zoo translate --direction`.
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
            np.testing.assert_array_equal(
                np.asarray(Image.open(workdir / direction / "odd.png")), expected[0])
