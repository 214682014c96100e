"""Pix2Pix (Isola et al. 2017): a conditional GAN for paired image translation.

One train step, as in the paper and the reference code:

1. the generator translates A into fake B once;
2. the discriminator learns to tell (A, B) from (A, fake B); its loss is
   halved;
3. the generator, against the just-updated discriminator, minimises the
   adversarial loss plus 100 times the L1 distance to the real B.

Data are (A, B) batches of uint8 images; the scaling to [-1, 1] happens in
the step. Validation (`test_step`) scores the translation of held-out A
against B with L1, PSNR and SSIM. With `test_mode="paper"` the generator
runs as in training (dropout on, batch statistics), as the paper evaluates
it; `"deterministic"` uses inference mode.

With `adversarial=False` the model is the paper's "L1 only" ablation: the
same U-Net trained on the L1 loss alone, the baseline a GAN must beat.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.gan import metrics
from zoo.gan.losses import AdversarialLoss

TEST_MODES = ("paper", "deterministic")
L1_WEIGHT = 100.0

TRAIN_METRICS = ("g_gan", "g_l1", "d_real", "d_fake")
VALIDATION_METRICS = ("l1", "psnr", "ssim")


class Pix2Pix(keras.Model):
    """Args:
        generator: image A (in [-1, 1]) -> image B, e.g. `unet_generator`.
        discriminator: (A, B) stacked on channels -> patch logits, e.g.
            `patchgan_discriminator(6)`; None when `adversarial=False`.
        test_mode: `"paper"` or `"deterministic"` (see the module doc).
        adversarial: False trains the generator on L1 alone.
    """

    def __init__(self, generator, discriminator=None, *, test_mode: str = "paper",
                 adversarial: bool = True, **kwargs):
        super().__init__(**kwargs)
        if test_mode not in TEST_MODES:
            raise ValueError(f"test_mode must be one of {', '.join(TEST_MODES)}. "
                             f"Received: test_mode={test_mode!r}")
        if adversarial and discriminator is None:
            raise ValueError("Pix2Pix needs a discriminator unless adversarial=False.")
        self.generator = generator
        self.discriminator = discriminator if adversarial else None
        self.test_mode = test_mode
        self.adversarial = adversarial
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in (*TRAIN_METRICS, *VALIDATION_METRICS)}

    def compile(self, g_optimizer, d_optimizer=None, *, gan_loss: str = "vanilla",
                l1_weight: float = L1_WEIGHT, jit_compile: bool = False):
        # The generator's optimizer is `model.optimizer`: its rate is the one logged.
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile)
        if self.adversarial and d_optimizer is None:
            raise ValueError("Pix2Pix.compile needs d_optimizer unless adversarial=False.")
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer if self.adversarial else None
        self.gan_loss = AdversarialLoss(gan_loss)
        self.l1_loss = keras.losses.MeanAbsoluteError()
        self.l1_weight = float(l1_weight)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        return self.generator(images, training=training)

    def optimizers(self) -> dict:
        """The optimizers by the name their checkpoint entry takes."""
        found = {"g_optimizer": self.g_optimizer}
        if self.d_optimizer is not None:
            found["d_optimizer"] = self.d_optimizer
        return found

    def prepare_training(self, batch) -> None:
        """Create every variable before the step is traced (see
        `zoo.training.loop.prepare_for_steps`)."""
        a, _ = batch
        if isinstance(a, tf.distribute.DistributedValues):
            a = a.values[0]
        a = self._scaled(a)
        self.generator(a, training=False)
        if self.discriminator is not None:
            self.discriminator(tf.concat([a, a], axis=-1), training=False)
        for optimizer, network in ((self.g_optimizer, self.generator),
                                   (self.d_optimizer, self.discriminator)):
            if optimizer is not None and not optimizer.built:
                optimizer.build(network.trainable_variables)

    def _scaled(self, images):
        # float32 in; each layer casts to its own compute dtype (mixed precision).
        return metrics.from_uint8(images)

    def _track(self, values: dict, names) -> dict:
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, value in values.items():
            # Keras losses are divided by the replica count (gradients are
            # summed over replicas); the logged value is the per-batch mean.
            self.trackers[name].update_state(tf.cast(value, tf.float32) * replicas)
        return {name: self.trackers[name].result() for name in names}

    def train_step(self, data):
        real_a, real_b = (self._scaled(x) for x in data)
        g_variables = self.generator.trainable_variables
        with tf.GradientTape() as g_tape:
            fake_b = self.generator(real_a, training=True)
            values = {}
            if self.discriminator is not None:
                d_variables = self.discriminator.trainable_variables
                with tf.GradientTape() as d_tape:
                    real_logits = self.discriminator(
                        tf.concat([real_a, real_b], axis=-1), training=True)
                    fake_logits = self.discriminator(
                        tf.concat([real_a, tf.stop_gradient(fake_b)], axis=-1), training=True)
                    d_real, d_fake = self.gan_loss.discriminator(real_logits, fake_logits)
                    d_loss = 0.5 * (d_real + d_fake)
                    # Multiplied by the loss scale under mixed_float16 (else 1).
                    d_scaled = self.d_optimizer.scale_loss(d_loss)
                self.d_optimizer.apply(d_tape.gradient(d_scaled, d_variables), d_variables)
                g_gan = self.gan_loss(self.discriminator(
                    tf.concat([real_a, fake_b], axis=-1), training=True), True)
                values.update(g_gan=g_gan, d_real=d_real, d_fake=d_fake)
            g_l1 = self.l1_loss(real_b, tf.cast(fake_b, real_b.dtype))
            g_loss = self.l1_weight * g_l1 + values.get("g_gan", 0.0)
            values["g_l1"] = g_l1
            g_scaled = self.g_optimizer.scale_loss(g_loss)
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_variables), g_variables)
        names = TRAIN_METRICS if self.discriminator is not None else ("g_l1",)
        return self._track(values, names)

    def test_step(self, data):
        real_a, real_b = (self._scaled(x) for x in data)
        fake_b = self.generator(real_a, training=self.test_mode == "paper")
        for name in VALIDATION_METRICS:
            self.trackers[name].update_state(getattr(metrics, name)(fake_b, real_b))
        return {name: self.trackers[name].result() for name in VALIDATION_METRICS}
