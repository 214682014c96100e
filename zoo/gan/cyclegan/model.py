"""CycleGAN (Zhu et al. 2017): image translation learned from unpaired sets.

Two generators, G: A -> B and F: B -> A, and two PatchGAN discriminators:
D_A tells real A images from F's, D_B real B images from G's (the paper's
D_X and D_Y; the reference code names them the other way round, after the
generator they judge). One train step, in the reference code's order:

1. G and F translate a batch of each domain: fake B = G(A), fake A = F(B),
   and back: F(G(A)), G(F(B));
2. both generators, with the discriminators left as they are, take one Adam
   step on the sum of
   - the least-squares GAN losses of D_B(G(A)) and D_A(F(B)) against "real",
   - 10 x the cycle losses |F(G(A)) - A| and |G(F(B)) - B| (L1),
   - 0.5 x 10 x the identity losses |G(B) - B| and |F(A) - A|, which keep
     colours from drifting;
3. each fake goes through its discriminator's image pool (`ImagePool`: half
   of the time an older fake is shown instead) and both discriminators take
   one Adam step on half their real-vs-fake loss.

Data are (A, B) batches of uint8 images; the scaling to [-1, 1] happens in
the step. Validation (`test_step`) takes dicts of uint8 batches:

    {"a": A, "b": B}                              always
    {"true_b": the true translation of a}         when it is known
    {"true_a": the true translation of b}         when it is known

and reports the cycle L1 of both domains (`cycle_l1_a`, `cycle_l1_b`), and
with ground truth the L1, PSNR and SSIM of G(a) against true_b (`l1_ab`,
`psnr_ab`, `ssim_ab`) and of F(b) against true_a (`..._ba`), all on the
[0, 1] scale. `zoo.gan.cyclegan.training.validation_batches` builds them.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.gan import metrics
from zoo.gan.cyclegan.image_pool import POOL_SIZE, ImagePool
from zoo.gan.losses import AdversarialLoss

LAMBDA_CYCLE = 10.0
LAMBDA_IDENTITY = 0.5

GENERATOR_METRICS = ("g_gan_ab", "g_gan_ba", "cycle_a", "cycle_b")
IDENTITY_METRICS = ("identity_a", "identity_b")
DISCRIMINATOR_METRICS = ("d_a", "d_b")
TRAIN_METRICS = GENERATOR_METRICS + IDENTITY_METRICS + DISCRIMINATOR_METRICS
CYCLE_SCORES = ("cycle_l1_a", "cycle_l1_b")
TRUTH_SCORES = {"true_b": ("l1_ab", "psnr_ab", "ssim_ab"),
                "true_a": ("l1_ba", "psnr_ba", "ssim_ba")}
PAIRED_SCORES = (metrics.l1, metrics.psnr, metrics.ssim)
VALIDATION_METRICS = CYCLE_SCORES + TRUTH_SCORES["true_b"] + TRUTH_SCORES["true_a"]


class CycleGAN(keras.Model):
    """Args:
        generator_ab: G, image A -> image B (in [-1, 1]), e.g. `resnet_generator`.
        generator_ba: F, image B -> image A.
        discriminator_a: D_A, image of domain A -> patch logits, e.g.
            `patchgan_discriminator(3, norm="instance")`.
        discriminator_b: D_B, image of domain B -> patch logits.
        pool_size: fakes each discriminator's pool keeps (0: no pool).
        seed: seeds the pools' draws.
    """

    def __init__(self, generator_ab, generator_ba, discriminator_a, discriminator_b, *,
                 pool_size: int = POOL_SIZE, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 0:
            raise ValueError(f"pool_size must be a non-negative integer. Received: "
                             f"pool_size={pool_size!r}")
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.pool_size = pool_size
        self.seed = int(seed)
        # Created by prepare_training, once the image size is known.
        self.pool_a = None
        self.pool_b = None
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in (*TRAIN_METRICS, *VALIDATION_METRICS)}

    def compile(self, g_optimizer, d_optimizer, *, lambda_cycle: float = LAMBDA_CYCLE,
                lambda_identity: float = LAMBDA_IDENTITY, jit_compile: bool = False):
        """One optimizer for both generators, one for both discriminators, as
        the reference code does. `lambda_identity` is relative to
        `lambda_cycle` (0.5 gives the identity terms a weight of 5)."""
        # The generators' optimizer is `model.optimizer`: its rate is the one logged.
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile)
        for option, value in (("lambda_cycle", lambda_cycle),
                              ("lambda_identity", lambda_identity)):
            if value < 0:
                raise ValueError(f"{option} must be at least 0. Received: {option}={value}")
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.gan_loss = AdversarialLoss("lsgan")
        self.l1_loss = keras.losses.MeanAbsoluteError()
        self.lambda_cycle = float(lambda_cycle)
        self.lambda_identity = float(lambda_identity)

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def generator_variables(self) -> list:
        return self.generator_ab.trainable_variables + self.generator_ba.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        return (self.discriminator_a.trainable_variables
                + self.discriminator_b.trainable_variables)

    def call(self, images, training=False):
        return self.generator_ab(images, training=training)

    def optimizers(self) -> dict:
        """The optimizers by the name their checkpoint entry takes."""
        return {"g_optimizer": self.g_optimizer, "d_optimizer": self.d_optimizer}

    def prepare_training(self, batch) -> None:
        """Create every variable before the step is traced (see
        `zoo.training.loop.prepare_for_steps`): the optimizers' slots and the
        image pools, sized for the batch's images."""
        a, b = (x.values[0] if isinstance(x, tf.distribute.DistributedValues) else x
                for x in batch)
        a, b = self._scaled(a), self._scaled(b)
        fake_b = self.generator_ab(a, training=False)
        fake_a = self.generator_ba(b, training=False)
        self.discriminator_a(fake_a, training=False)
        self.discriminator_b(fake_b, training=False)
        if self.pool_a is None:
            self.pool_a = ImagePool(fake_a.shape[1:], self.pool_size, seed=self.seed,
                                    name="pool_a")
            self.pool_b = ImagePool(fake_b.shape[1:], self.pool_size, seed=self.seed + 1,
                                    name="pool_b")
        for optimizer, variables in ((self.g_optimizer, self.generator_variables),
                                     (self.d_optimizer, self.discriminator_variables)):
            if not optimizer.built:
                optimizer.build(variables)

    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras `fit`, on (A, B) batches (a dataset) or `x=A, y=B` arrays.

        The image pools are sized from the first batch before Keras traces
        the step: a traced step may not create variables. zoo's own loop
        calls `prepare_training` itself.
        """
        if self.pool_a is None:
            if isinstance(x, tf.data.Dataset):
                first = next(iter(x.take(1)))
            else:
                first = (x[:1], y[:1])
            with self.distribute_strategy.scope():
                self.prepare_training(first)
        return super().fit(x, y, *args, **kwargs)

    def _scaled(self, images):
        # float32 in; each layer casts to its own compute dtype (mixed precision).
        return metrics.from_uint8(images)

    def _l1(self, target, output):
        return self.l1_loss(target, tf.cast(output, target.dtype))

    def _track(self, values: dict) -> dict:
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, value in values.items():
            # Keras losses are divided by the replica count (gradients are
            # summed over replicas); the logged value is the per-batch mean.
            self.trackers[name].update_state(tf.cast(value, tf.float32) * replicas)
        return {name: self.trackers[name].result() for name in values}

    def train_step(self, data):
        real_a, real_b = (self._scaled(x) for x in data)
        g_ab, g_ba = self.generator_ab, self.generator_ba
        d_a, d_b = self.discriminator_a, self.discriminator_b
        g_variables = self.generator_variables
        with tf.GradientTape() as g_tape:
            fake_b = g_ab(real_a, training=True)
            fake_a = g_ba(real_b, training=True)
            values = {
                "g_gan_ab": self.gan_loss(d_b(fake_b, training=True), True),
                "g_gan_ba": self.gan_loss(d_a(fake_a, training=True), True),
                "cycle_a": self._l1(real_a, g_ba(fake_b, training=True)),
                "cycle_b": self._l1(real_b, g_ab(fake_a, training=True)),
            }
            g_loss = (values["g_gan_ab"] + values["g_gan_ba"]
                      + self.lambda_cycle * (values["cycle_a"] + values["cycle_b"]))
            if self.lambda_identity > 0:
                values["identity_b"] = self._l1(real_b, g_ab(real_b, training=True))
                values["identity_a"] = self._l1(real_a, g_ba(real_a, training=True))
                g_loss += (self.lambda_cycle * self.lambda_identity
                           * (values["identity_a"] + values["identity_b"]))
            # Multiplied by the loss scale under mixed_float16 (else 1).
            g_scaled = self.g_optimizer.scale_loss(g_loss)
        # The discriminators' variables are not among those updated here:
        # they stay as they are, as the reference's requires_grad=False does.
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_variables), g_variables)

        # The fakes made before the generators' update, as in the reference.
        pooled_a = self.pool_a.query(tf.stop_gradient(fake_a))
        pooled_b = self.pool_b.query(tf.stop_gradient(fake_b))
        d_variables = self.discriminator_variables
        with tf.GradientTape() as d_tape:
            for name, network, real, fake in (("d_a", d_a, real_a, pooled_a),
                                              ("d_b", d_b, real_b, pooled_b)):
                real_loss, fake_loss = self.gan_loss.discriminator(
                    network(real, training=True), network(fake, training=True))
                values[name] = 0.5 * (real_loss + fake_loss)
            d_scaled = self.d_optimizer.scale_loss(values["d_a"] + values["d_b"])
        self.d_optimizer.apply(d_tape.gradient(d_scaled, d_variables), d_variables)
        return self._track(values)

    def test_step(self, data):
        if not isinstance(data, dict) or not {"a", "b"} <= set(data):
            raise ValueError("CycleGAN validation data must be dicts with keys 'a' and 'b' "
                             "(and 'true_b', 'true_a' where known); build them with "
                             "zoo.gan.cyclegan.training.validation_batches.")
        real_a, real_b = self._scaled(data["a"]), self._scaled(data["b"])
        fake_b = self.generator_ab(real_a, training=False)
        fake_a = self.generator_ba(real_b, training=False)
        scores = {
            "cycle_l1_a": metrics.l1(self.generator_ba(fake_b, training=False), real_a),
            "cycle_l1_b": metrics.l1(self.generator_ab(fake_a, training=False), real_b),
        }
        for key, fake in (("true_b", fake_b), ("true_a", fake_a)):
            if key in data:
                truth = self._scaled(data[key])
                for name, score in zip(TRUTH_SCORES[key], PAIRED_SCORES):
                    scores[name] = score(fake, truth)
        for name, value in scores.items():
            self.trackers[name].update_state(value)
        return {name: self.trackers[name].result() for name in scores}
