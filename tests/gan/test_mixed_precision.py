"""`mixed_precision` means the same in the GAN configs as in the classifier's
(zoo.precision): "float16" computes in float16 with loss scaling, "bfloat16"
in bfloat16 without it, and the global policy goes back afterwards.

A float16 step must move the weights as a float32 step does: without the
loss scale in the gradient, LossScaleOptimizer would divide unscaled
gradients by the scale, and the update would be thousands of times smaller.
SGD keeps the update proportional to the gradient, so the test sees it. The
scale starts at 256 rather than Keras's 32768, whose first steps overflow in
float16 and are skipped (halving the scale) before training moves at all."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from zoo.gan.cyclegan.model import CycleGAN
from zoo.gan.cyclegan.resnet import resnet_generator
from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.pix2pix.model import Pix2Pix
from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix
from zoo.gan.pix2pix.unet import unet_generator
from zoo.training.distribute import dtype_policy, precision_policy

SIZE = 32
SCALE = 256


def sgd():
    optimizer = keras.optimizers.SGD(0.1)
    if keras.config.dtype_policy().name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=SCALE)
    return optimizer


def images(n=2, seed=0):
    rng = np.random.RandomState(seed)
    return tf.constant(rng.randint(0, 256, (n, SIZE, SIZE, 3)).astype("uint8"))


def pix2pix(policy):
    keras.utils.set_random_seed(3)
    with dtype_policy(policy):
        model = Pix2Pix(unet_generator(SIZE, ngf=4, dropout=0.0), patchgan_discriminator(6, ndf=4))
        model.compile(sgd(), sgd())
    return model, model.generator


def cyclegan(policy):
    keras.utils.set_random_seed(3)
    with dtype_policy(policy):
        model = CycleGAN(resnet_generator(1, ngf=4), resnet_generator(1, ngf=4),
                         patchgan_discriminator(3, ndf=4, norm="instance"),
                         patchgan_discriminator(3, ndf=4, norm="instance"), pool_size=0)
        model.compile(sgd(), sgd())
    return model, model.generator_ab


@pytest.mark.parametrize("build", [pix2pix, cyclegan], ids=["pix2pix", "cyclegan"])
def test_a_float16_step_moves_the_generator_as_a_float32_step_does(build):
    batch = (images(seed=0), images(seed=1))
    updates = {}
    for policy in (None, "mixed_float16"):
        model, generator = build(policy)
        variables = generator.trainable_variables
        before = [v.numpy() for v in variables]
        model.prepare_training(batch)
        logs = model.train_step(batch)
        assert all(np.isfinite(float(value)) for value in logs.values())
        updates[policy] = np.concatenate(
            [(v.numpy() - start).ravel() for v, start in zip(variables, before)])
    # Neither step overflowed (a skipped step halves the scale).
    assert float(model.g_optimizer.dynamic_scale) == SCALE
    assert float(model.d_optimizer.dynamic_scale) == SCALE
    assert keras.config.dtype_policy().name == "float32"
    # float16's 3 significant digits through a few layers: same direction and size.
    full, half = updates[None], updates["mixed_float16"]
    cosine = full @ half / (np.linalg.norm(full) * np.linalg.norm(half))
    assert cosine > 0.9
    assert 0.7 < np.linalg.norm(half) / np.linalg.norm(full) < 1.4


def test_the_settings_name_the_same_policies_in_every_family():
    assert precision_policy("off") is None and precision_policy(False) is None
    assert precision_policy("float16") == precision_policy(True) == "mixed_float16"
    assert precision_policy("bfloat16") == "mixed_bfloat16"
    gpu = bool(tf.config.list_physical_devices("GPU"))
    assert precision_policy("auto") == ("mixed_float16" if gpu else None)
    for config in (Pix2PixConfig(image_size=SIZE), CycleGANConfig(image_size=SIZE)):
        assert config.mixed_precision == "auto"
    assert Pix2PixConfig(image_size=SIZE, mixed_precision=True).mixed_precision == "float16"
    with pytest.raises(ValueError, match="mixed_precision must be one of auto, off, float16"):
        CycleGANConfig(image_size=SIZE, mixed_precision="fp16")


@pytest.mark.slow
@pytest.mark.parametrize("setting,compute,scaled", [("float16", "float16", True),
                                                    ("bfloat16", "bfloat16", False)])
def test_a_gan_run_computes_in_the_dtype_its_config_names(setting, compute, scaled):
    pairs = tf.data.Dataset.from_tensor_slices((images(4, 0), images(4, 1))).batch(1)
    config = Pix2PixConfig(image_size=SIZE, ngf=4, ndf=4, batch_size=2, epochs=1,
                           decay_epochs=0, mixed_precision=setting)
    model = train_pix2pix(config, pairs, verbose=0).model
    assert keras.config.dtype_policy().name == "float32"
    convolutions = [layer for layer in model.generator.layers
                    if isinstance(layer, keras.layers.Conv2D)]
    assert {(c.compute_dtype, c.variable_dtype) for c in convolutions} == {(compute, "float32")}
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer) == scaled

    domains = {"a": tf.data.Dataset.from_tensor_slices(images(4, 0)).batch(1),
               "b": tf.data.Dataset.from_tensor_slices(images(4, 1)).batch(1)}
    config = CycleGANConfig(image_size=SIZE, n_blocks=1, ngf=4, ndf=4, epochs=1,
                            decay_epochs=0, mixed_precision=setting)
    model = train_cyclegan(config, domains["a"], domains["b"], verbose=0).model
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    convolutions = [layer for layer in model.generator_ab.layers
                    if isinstance(layer, keras.layers.Conv2D)]
    assert {(c.compute_dtype, c.variable_dtype) for c in convolutions} == {(compute, "float32")}


def test_auto_computes_in_bfloat16_only_where_it_was_measured_faster(monkeypatch):
    from zoo.gan.run_setup import bfloat16_wins_on_cpu, precision_line
    from zoo.training import distribute

    monkeypatch.setattr(distribute.tf.config, "list_physical_devices", lambda kind: [])
    monkeypatch.setattr(distribute, "cpu_computes_bfloat16", lambda: True)
    monkeypatch.setattr(distribute, "onednn_enabled", lambda: True)
    large, small = Pix2PixConfig(image_size=128, ngf=64), Pix2PixConfig(image_size=64, ngf=64)
    assert bfloat16_wins_on_cpu(large) and not bfloat16_wins_on_cpu(small)
    assert bfloat16_wins_on_cpu(CycleGANConfig(image_size=64, ngf=64))
    assert not bfloat16_wins_on_cpu(CycleGANConfig(image_size=64, ngf=16))  # the recipe's
    assert precision_line(large) == ("Compute: mixed_bfloat16 (auto: this CPU has AMX-BF16 "
                                     "and oneDNN is on).")
    assert precision_line(small).startswith("Compute: float32 (auto: no GPU, and these "
                                            "networks are too small")
    assert precision_line(Pix2PixConfig(image_size=64, mixed_precision="bfloat16")) == \
        "Compute: mixed_bfloat16 (as asked)."
    # The classifier's "auto" never picks bfloat16 on a CPU (MobileNetV3 is slower in it).
    assert precision_policy("auto") is None

    monkeypatch.setattr(distribute, "onednn_enabled", lambda: False)
    assert "oneDNN is off" in precision_line(large)
    monkeypatch.setattr(distribute, "cpu_computes_bfloat16", lambda: False)
    assert "no AMX-BF16" in precision_line(large)
    monkeypatch.setattr(distribute.tf.config, "list_physical_devices", lambda kind: ["gpu"])
    assert precision_line(small) == "Compute: mixed_float16 (auto: a GPU is present)."


def test_cpu_flags_come_from_cpuinfo(tmp_path):
    from zoo.precision import cpu_computes_bfloat16, cpu_flags

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n")
    assert {"avx2", "amx_bf16"} <= cpu_flags(cpuinfo)
    assert cpu_computes_bfloat16(cpu_flags(cpuinfo))
    assert not cpu_computes_bfloat16({"avx2", "avx512_bf16"})
    assert cpu_flags(tmp_path / "missing") == set()
