"""CycleGAN's train step is the reference's (both generators first, on the
LSGAN, cycle and identity losses with D fixed; then both discriminators on
half their loss against pooled fakes), its epochs cover the larger domain,
and validation scores translations against known ground truth."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from zoo.data.embedded import ground_truth
from zoo.gan.cyclegan.model import CycleGAN
from zoo.gan.cyclegan.training import CycleGANConfig, UnalignedEpochs, validation_batches
from zoo.gan.losses import AdversarialLoss
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.cyclegan.resnet import resnet_generator

from tolerances import FLOAT32_ATOL, FLOAT32_RTOL

# The traced steps against eager references: see tests/tolerances.py.
pytestmark = pytest.mark.numerics

SIZE = 32


def images(n=2, seed=0, size=SIZE):
    rng = np.random.RandomState(seed)
    return tf.constant(rng.randint(0, 256, (n, size, size, 3)).astype("uint8"))


def networks():
    keras.utils.set_random_seed(3)
    return (resnet_generator(1, ngf=4), resnet_generator(1, ngf=4),
            patchgan_discriminator(3, ndf=4, norm="instance"),
            patchgan_discriminator(3, ndf=4, norm="instance"))


def copies(models):
    built = networks()
    for copy, model in zip(built, models):
        copy.set_weights(model.get_weights())
    return built


def sgd_step(loss_fn, variables, rate):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    for variable, grad in zip(variables, tape.gradient(loss, variables)):
        variable.assign_sub(rate * grad)
    return loss


@pytest.mark.slow
def test_train_step_updates_generators_then_discriminators_as_the_reference_does():
    nets = networks()
    g_ab, g_ba, d_a, d_b = copies(nets)
    rate = 0.1
    model = CycleGAN(*nets, pool_size=4)
    model.compile(keras.optimizers.SGD(rate), keras.optimizers.SGD(rate))
    a, b = images(seed=0), images(seed=1)
    model.prepare_training((a, b))
    logs = model.train_step((a, b))

    # The same step, written out.
    lsgan = AdversarialLoss("lsgan")
    real_a, real_b = (tf.cast(x, tf.float32) / 127.5 - 1.0 for x in (a, b))
    fakes = {}

    def generator_loss():
        fakes["b"], fakes["a"] = g_ab(real_a, training=True), g_ba(real_b, training=True)
        l1 = lambda x, y: tf.reduce_mean(tf.abs(x - y))  # noqa: E731
        return (lsgan(d_b(fakes["b"]), True) + lsgan(d_a(fakes["a"]), True)
                + 10.0 * (l1(g_ba(fakes["b"]), real_a) + l1(g_ab(fakes["a"]), real_b))
                + 5.0 * (l1(g_ab(real_b), real_b) + l1(g_ba(real_a), real_a)))

    d_before = [w.numpy() for w in d_a.weights + d_b.weights]
    sgd_step(generator_loss, g_ab.trainable_variables + g_ba.trainable_variables, rate)
    assert all(np.array_equal(w, v.numpy()) for w, v in zip(d_before, d_a.weights + d_b.weights))

    def discriminator_loss():
        # The pool is filling, so it passes the fakes of this step through.
        fake_a, fake_b = tf.stop_gradient(fakes["a"]), tf.stop_gradient(fakes["b"])
        return (0.5 * (lsgan(d_a(real_a), True) + lsgan(d_a(fake_a), False))
                + 0.5 * (lsgan(d_b(real_b), True) + lsgan(d_b(fake_b), False)))

    sgd_step(discriminator_loss, d_a.trainable_variables + d_b.trainable_variables, rate)

    for ours, reference in zip(nets, (g_ab, g_ba, d_a, d_b)):
        for mine, theirs in zip(ours.trainable_weights, reference.trainable_weights,
                                strict=True):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=FLOAT32_RTOL,
                                       atol=FLOAT32_ATOL)
    assert set(logs) == {"g_gan_ab", "g_gan_ba", "cycle_a", "cycle_b", "identity_a",
                         "identity_b", "d_a", "d_b"}
    # The pool now holds the two fakes of each domain.
    assert int(model.pool_a.count.numpy()) == int(model.pool_b.count.numpy()) == 2
    # The pool holds copies, but of fakes the traced step made, not these eager ones.
    np.testing.assert_allclose(model.pool_b.images.numpy()[:2], fakes["b"].numpy(),
                               rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)


def test_identity_loss_off_and_bad_arguments():
    model = CycleGAN(*networks(), pool_size=0)
    model.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), lambda_identity=0.0)
    a, b = images(1, 0), images(1, 1)
    model.prepare_training((a, b))
    assert "identity_a" not in model.train_step((a, b))
    with pytest.raises(ValueError, match="lambda_cycle"):
        model.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), lambda_cycle=-1)
    with pytest.raises(ValueError, match="pool_size"):
        CycleGAN(*networks(), pool_size=-2)


def test_validation_scores_both_directions_against_the_ground_truth():
    model = CycleGAN(*networks())
    swap = ground_truth("rgb2bgr")
    a, b = images(2, 0), images(2, 1)
    batches = validation_batches(tf.data.Dataset.from_tensors(a),
                                 tf.data.Dataset.from_tensors(b), swap, swap)
    batch = next(iter(batches))
    np.testing.assert_array_equal(batch["true_b"].numpy(), a.numpy()[..., ::-1])
    logs = {k: float(v) for k, v in model.test_step(batch).items()}
    assert set(logs) == {"cycle_l1_a", "cycle_l1_b", "l1_ab", "psnr_ab", "ssim_ab",
                         "l1_ba", "psnr_ba", "ssim_ba"}
    fake_b = model.generator_ab(tf.cast(a, tf.float32) / 127.5 - 1.0)
    expected = np.mean(np.abs((np.clip(fake_b.numpy(), -1, 1) + 1) / 2
                              - a.numpy()[..., ::-1] / 255.0))
    assert logs["l1_ab"] == pytest.approx(expected, rel=1e-4)
    only_a = validation_batches(tf.data.Dataset.from_tensors(a), tf.data.Dataset.from_tensors(b),
                                ground_truth("color2sepia"))
    assert set(model.test_step(next(iter(only_a)))) >= {"l1_ab"}
    with pytest.raises(ValueError, match="validation_batches"):
        model.test_step((a, b))


def numbered(count, start=0):
    values = np.arange(start, start + count, dtype="uint8")
    return tf.data.Dataset.from_tensor_slices(
        values[:, None, None, None] * np.ones((1, 24, 24, 3), "uint8")).batch(4)


@pytest.mark.parametrize("count_a, count_b", [(10, 4), (3, 7)])
def test_an_epoch_covers_the_larger_domain_and_draws_the_smaller_alongside(count_a, count_b):
    config = CycleGANConfig(image_size=24, batch_size=3, augment=False, seed=1)
    epochs = UnalignedEpochs(numbered(count_a), numbered(count_b, start=100), config)
    larger = max(count_a, count_b)
    assert epochs.steps_per_epoch == -(-larger // 3)

    def seen(epoch):
        pairs = [(a.numpy()[:, 0, 0, 0], b.numpy()[:, 0, 0, 0]) for a, b in epochs(epoch)]
        return (np.concatenate([a for a, _ in pairs]).tolist(),
                np.concatenate([b for _, b in pairs]).tolist(), len(pairs))

    seen_a, seen_b, steps = seen(0)
    assert steps == epochs.steps_per_epoch and len(seen_a) == len(seen_b) == larger
    big, small = (seen_a, seen_b) if count_a > count_b else (seen_b, seen_a)
    smaller = min(count_a, count_b)
    assert len(set(big)) == larger  # every image of the larger domain, once
    # The smaller domain runs in reshuffled passes: each image as often as the others, +-1.
    counts = np.bincount(np.asarray(small) - min(small), minlength=smaller)
    assert counts.max() - counts.min() <= 1 and len(set(small)) == smaller
    assert seen(0) == (seen_a, seen_b, steps)  # the same epoch is the same again
    assert seen(1)[:2] != (seen_a, seen_b)


def test_config_rejects_sizes_the_networks_cannot_take():
    with pytest.raises(ValueError, match="image_size"):
        CycleGANConfig(image_size=30)
    with pytest.raises(ValueError, match="image_size"):
        CycleGANConfig(image_size=20)
    with pytest.raises(ValueError, match="n_blocks"):
        CycleGANConfig(n_blocks=0)
