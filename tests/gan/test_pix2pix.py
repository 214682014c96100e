"""Pix2Pix's train step is the paper's (D first, halved; then G against the
updated D with L1 x 100), its schedule is the papers', and it trains
through zoo's loop."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from zoo.gan.losses import AdversarialLoss
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.pix2pix.model import Pix2Pix
from zoo.gan.schedule import ConstantThenLinearDecay
from zoo.gan.pix2pix.unet import unet_generator

from tolerances import FLOAT32_ATOL, FLOAT32_RTOL

# Compares float32 results of different computations: see tests/tolerances.py.
pytestmark = pytest.mark.numerics

SIZE = 32


def pairs(n=2, seed=0):
    rng = np.random.RandomState(seed)
    return (tf.constant(rng.randint(0, 256, (n, SIZE, SIZE, 3)).astype("uint8")),
            tf.constant(rng.randint(0, 256, (n, SIZE, SIZE, 3)).astype("uint8")))


def networks():
    keras.utils.set_random_seed(3)
    # No dropout: the reference computation below must draw the same values.
    return (unet_generator(SIZE, ngf=4, dropout=0.0),
            patchgan_discriminator(6, ndf=4))


def clone(model):
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


@pytest.mark.parametrize("gan_loss", ["vanilla", "lsgan"])
def test_train_step_updates_d_with_half_its_loss_then_g_against_the_new_d(gan_loss):
    generator, discriminator = networks()
    g_ref, d_ref = clone(generator), clone(discriminator)
    rate = 0.5
    model = Pix2Pix(generator, discriminator)
    model.compile(keras.optimizers.SGD(rate), keras.optimizers.SGD(rate), gan_loss=gan_loss)
    a, b = pairs()
    model.prepare_training((a, b))
    logs = model.train_step((a, b))

    # The same step, written out.
    loss = AdversarialLoss(gan_loss)
    fa, fb = (tf.cast(x, tf.float32) / 127.5 - 1.0 for x in (a, b))
    with tf.GradientTape() as tape:
        fake = g_ref(fa, training=True)
        with tf.GradientTape() as d_tape:
            d_loss = 0.5 * (loss(d_ref(tf.concat([fa, fb], -1), training=True), True)
                            + loss(d_ref(tf.concat([fa, tf.stop_gradient(fake)], -1),
                                         training=True), False))
        d_grads = d_tape.gradient(d_loss, d_ref.trainable_variables)
        for variable, grad in zip(d_ref.trainable_variables, d_grads):
            variable.assign_sub(rate * grad)
        g_gan = loss(d_ref(tf.concat([fa, fake], -1), training=True), True)
        g_loss = g_gan + 100.0 * tf.reduce_mean(tf.abs(fb - fake))
    g_grads = tape.gradient(g_loss, g_ref.trainable_variables)
    for variable, grad in zip(g_ref.trainable_variables, g_grads):
        variable.assign_sub(rate * grad)

    for ours, reference in ((discriminator, d_ref), (generator, g_ref)):
        for mine, theirs in zip(ours.trainable_weights, reference.trainable_weights):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=FLOAT32_RTOL,
                                       atol=FLOAT32_ATOL)
    # The traced step against the eager reference: two computations.
    np.testing.assert_allclose(float(logs["g_gan"]), float(g_gan), rtol=FLOAT32_RTOL)
    assert set(logs) == {"g_gan", "g_l1", "d_real", "d_fake"}


def test_l1_only_model_trains_the_generator_alone():
    generator, _ = networks()
    model = Pix2Pix(generator, adversarial=False)
    model.compile(keras.optimizers.Adam(1e-3))
    a, b = pairs()
    model.prepare_training((a, b))
    before = [w.numpy().copy() for w in generator.trainable_weights]
    logs = model.train_step((a, b))
    assert set(logs) == {"g_l1"}
    assert any(not np.allclose(x, w.numpy()) for x, w in zip(before, generator.trainable_weights))
    with pytest.raises(ValueError, match="discriminator"):
        Pix2Pix(generator)


def test_adversarial_losses():
    logits = tf.constant([[2.0, -1.0]])
    vanilla = AdversarialLoss("vanilla")
    np.testing.assert_allclose(float(vanilla(logits, True)),
                               np.mean(np.log1p(np.exp(-np.array([2.0, -1.0])))), rtol=1e-5)
    lsgan = AdversarialLoss("lsgan")
    assert float(lsgan(logits, True)) == pytest.approx(((2 - 1) ** 2 + (-1 - 1) ** 2) / 2)
    assert float(lsgan(logits, False)) == pytest.approx((4 + 1) / 2)
    with pytest.raises(ValueError, match="gan_loss"):
        AdversarialLoss("wgan")


def test_test_modes():
    generator, discriminator = networks()
    a, b = pairs(n=1)
    scores = {}
    for mode in ("paper", "deterministic"):
        model = Pix2Pix(generator, discriminator, test_mode=mode)
        model.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
        scores[mode] = float(model.test_step((a, b))["l1"])
    # Paper mode uses the batch's statistics, inference mode the running ones.
    assert scores["paper"] != pytest.approx(scores["deterministic"])
    with pytest.raises(ValueError, match="test_mode"):
        Pix2Pix(generator, discriminator, test_mode="eval")


def test_schedule_is_constant_then_decays_linearly_once_per_epoch():
    schedule = ConstantThenLinearDecay(2e-4, steps_per_epoch=10, constant_epochs=3,
                                       decay_epochs=3)
    per_epoch = [float(schedule(epoch * 10 + 5)) for epoch in range(6)]
    np.testing.assert_allclose(per_epoch, [2e-4, 2e-4, 2e-4, 1.5e-4, 1e-4, 0.5e-4], rtol=1e-6)
    assert float(schedule(9)) == float(schedule(0))  # steps within an epoch share a rate
    assert float(schedule(1000)) == 0.0


def test_config_chooses_the_patchgan_depth_and_rejects_images_too_small_for_it():
    from zoo.gan.pix2pix.training import Pix2PixConfig, build_pix2pix

    model = build_pix2pix(Pix2PixConfig(image_size=SIZE, ngf=4, ndf=4, n_layers_d=1),
                          steps_per_epoch=1)
    # 16x16 patches: 32 -> 16 (stride 2) -> 15 -> 14 (two stride-1 convs).
    logits = model.discriminator(np.zeros((1, SIZE, SIZE, 6), "float32"))
    assert tuple(logits.shape) == (1, 14, 14, 1)
    with pytest.raises(ValueError, match="at least 48"):
        Pix2PixConfig(image_size=SIZE, n_layers_d=4)
    assert Pix2PixConfig(image_size=SIZE, n_layers_d=4, adversarial=False).n_layers_d == 4
