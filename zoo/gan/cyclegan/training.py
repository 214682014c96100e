"""Train a CycleGAN through zoo's one training loop, resumably.

`train_cyclegan` builds the four networks, the two optimizers and the two
image pools the config asks for, feeds the loop one epoch at a time, and
checkpoints all of them after every epoch: the networks, both optimizers
(and so the learning-rate schedule's position), both pools' images, fill
counts and random state, and any dropout random state.

An epoch is as long as the larger domain, as in the reference code's
unaligned data set: the larger domain is shuffled and seen once, the
smaller one is drawn alongside in random order, reshuffled each time it
runs out, so training never stops at the shorter domain. (The reference
draws B with replacement at every position; drawing without replacement
within each pass shows every image of the smaller domain about equally
often.) Shuffles and jitter depend only on the seed, the epoch and the
position, so a run killed at any moment and resumed ends with the weights
an uninterrupted one would have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from zoo.data.augment import gan_augment
from zoo.gan.cyclegan.model import CycleGAN
from zoo.gan.cyclegan.image_pool import POOL_SIZE
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.cyclegan.resnet import SIZE_MULTIPLE, resnet_generator
from zoo.gan.run_setup import (
    EpochsConfig,
    build_model,
    papers_adam,
    restore_or_start,
    run_loop,
)
from zoo.gan.sizes import smallest_input
from zoo.precision import check_mixed_precision
from zoo.seed import DEFAULT_SEED
from zoo.training.loop import Monitor


@dataclass
class CycleGANConfig(EpochsConfig):
    """What to train and how; the defaults are the paper's.

    Args:
        image_size: training side in pixels, a multiple of 4 of at least 24
            (the PatchGAN's smallest input).
        epochs: epochs at the full learning rate.
        decay_epochs: epochs of linear decay towards 0 after them.
        n_blocks: the generators' residual blocks: 9 for 256 px, 6 for 128 px.
        ngf, ndf: first-block filters of the generators and discriminators.
        learning_rate, beta_1: Adam's, for both optimizers.
        batch_size: images of each domain per step (the paper uses 1).
        lambda_cycle: weight of the cycle losses.
        lambda_identity: weight of the identity losses relative to
            lambda_cycle (0 turns them off).
        pool_size: past fakes each discriminator's pool keeps.
        augment: the papers' jitter and flip of the training images.
        seed: seeds weights, shuffling, jitter and the pools.
        jit_compile: XLA-compile the train step.
        mixed_precision: "auto", "off", "float16" (with loss scaling) or
            "bfloat16", as zoo.precision says; "auto" computes in bfloat16 on
            AMX CPUs only for networks large enough to gain from it.
        strategy: `"default"`, `"mirrored"` or `"multi_worker"`.
    """

    image_size: int = 256
    epochs: int = 100
    decay_epochs: int = 100
    n_blocks: int = 9
    ngf: int = 64
    ndf: int = 64
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    batch_size: int = 1
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = POOL_SIZE
    augment: bool = True
    seed: int = DEFAULT_SEED
    jit_compile: bool = False
    mixed_precision: str = "auto"
    strategy: str = "default"

    # "auto" computes in bfloat16 on an AMX CPU from this image_size x ngf on
    # (zoo.gan.run_setup.bfloat16_wins_on_cpu): 1.58x float32's speed at 64 px,
    # 9 blocks, ngf 64; 0.88x at 32 px, ngf 8 (benchmarks/gan_step.py).
    BFLOAT16_FROM = 4096

    def __post_init__(self):
        self.mixed_precision = check_mixed_precision(self.mixed_precision)
        size = self.image_size
        if (isinstance(size, bool) or not isinstance(size, int) or size % SIZE_MULTIPLE
                or size < smallest_input()):
            raise ValueError(f"image_size must be a multiple of {SIZE_MULTIPLE} of at least "
                             f"{smallest_input()} (the generator halves it twice, the "
                             f"PatchGAN needs {smallest_input()} px). Received: "
                             f"image_size={size!r}")
        for option in ("n_blocks", "ngf", "ndf", "batch_size"):
            value = getattr(self, option)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{option} must be a positive integer. Received: "
                                 f"{option}={value!r}")


@dataclass
class CycleGANResult:
    """model: the trained CycleGAN (`generator_ab` and `generator_ba` are what
    is used; they are built for `config.image_size`, and
    `zoo.gan.cyclegan.resnet.with_image_size(generator)` gives the any-size model to
    save); state: the loop's state (history, epochs done); resumed_from: the
    epoch a resumed run started at, else None."""

    model: CycleGAN
    state: dict
    resumed_from: int | None = None


def _images(dataset, name: str):
    images = dataset.unbatch()
    count = int(images.cardinality())
    if count < 0:  # streamed from a file cache: count once
        count = sum(1 for _ in images)
    if count == 0:
        raise ValueError(f"{name} holds no images; pass a dataset of uint8 image batches.")
    return images.apply(tf.data.experimental.assert_cardinality(count)), count


class UnalignedEpochs:
    """The (A, B) training batches of each epoch, as long as the larger domain.

    Args:
        train_a, train_b: datasets of uint8 image batches of each domain, in
            a fixed order and unaugmented.
        config: batch size, seed and whether to augment.
    """

    def __init__(self, train_a, train_b, config: CycleGANConfig):
        self.a, self.count_a = _images(train_a, "train_a")
        self.b, self.count_b = _images(train_b, "train_b")
        self.config = config

    @property
    def images_per_epoch(self) -> int:
        return max(self.count_a, self.count_b)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.images_per_epoch / self.config.batch_size)

    def __call__(self, epoch: int):
        config = self.config
        epoch_seed = config.seed * 1000 + epoch
        length = self.images_per_epoch

        def order(images, count, seed):
            # Reshuffled (deterministically, from `seed`) each time it runs out.
            return images.shuffle(count, seed=seed, reshuffle_each_iteration=True).repeat() \
                .take(length)

        ds = tf.data.Dataset.zip(order(self.a, self.count_a, 2 * epoch_seed),
                                 order(self.b, self.count_b, 2 * epoch_seed + 1))
        if config.augment:
            def jitter(index, pair):
                image_a, image_b = pair
                seed = tf.constant(epoch_seed, tf.int64)
                return (gan_augment(image_a, seed=tf.stack([seed, 2 * index])),
                        gan_augment(image_b, seed=tf.stack([seed, 2 * index + 1])))

            ds = ds.enumerate().map(jitter, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def validation_batches(test_a, test_b, truth_ab=None, truth_ba=None):
    """Held-out batches in the form `CycleGAN.test_step` takes.

    Args:
        test_a, test_b: datasets of uint8 image batches of each domain, with
            the same batch size; they are paired in order and the longer one
            is cut to the shorter's length.
        truth_ab: the true A -> B mapping, when known (for the embedded sets,
            `zoo.data.embedded.ground_truth(name)`): a function of a uint8
            numpy batch returning a uint8 batch of the same shape.
        truth_ba: the true B -> A mapping, when known.

    Returns:
        A dataset of dicts {"a", "b"} (+ "true_b", "true_a").
    """
    def known(images, truth):
        moved = tf.numpy_function(lambda x: np.asarray(truth(x), np.uint8), [images],
                                  tf.uint8, stateful=False)
        return tf.ensure_shape(moved, images.shape)

    def as_dict(a, b):
        batch = {"a": a, "b": b}
        if truth_ab is not None:
            batch["true_b"] = known(a, truth_ab)
        if truth_ba is not None:
            batch["true_a"] = known(b, truth_ba)
        return batch

    return tf.data.Dataset.zip(test_a, test_b).map(as_dict).cache()


def build_cyclegan(config: CycleGANConfig, steps_per_epoch: int) -> CycleGAN:
    """The networks, optimizers and losses of a config, compiled.

    The generators are built for the training size: their reflection padding
    is then twice as cheap (see `zoo.gan.padding`).
    """
    def generator(name):
        return resnet_generator(config.n_blocks, ngf=config.ngf, image_size=config.image_size,
                                name=name)

    def discriminator(name):
        return patchgan_discriminator(3, ndf=config.ndf, norm="instance", name=name)

    model = CycleGAN(generator("generator_ab"), generator("generator_ba"),
                     discriminator("discriminator_a"), discriminator("discriminator_b"),
                     pool_size=config.pool_size, seed=config.seed)

    model.compile(papers_adam(config, steps_per_epoch), papers_adam(config, steps_per_epoch),
                  lambda_cycle=config.lambda_cycle, lambda_identity=config.lambda_identity,
                  jit_compile=config.jit_compile)
    return model


def translators(model: CycleGAN) -> keras.Model:
    """Both generators as one model ([A, B] -> [G(A), F(B)]): what the best
    weights keep."""
    inputs = [keras.Input(network.input.shape[1:], name=f"image_{side}")
              for side, network in (("a", model.generator_ab), ("b", model.generator_ba))]
    return keras.Model(inputs, [model.generator_ab(inputs[0]), model.generator_ba(inputs[1])],
                       name="translators")


def checkpoint_objects(model: CycleGAN) -> dict:
    return {"generator_ab": model.generator_ab, "generator_ba": model.generator_ba,
            "discriminator_a": model.discriminator_a,
            "discriminator_b": model.discriminator_b, **model.optimizers(),
            "pool_a": model.pool_a, "pool_b": model.pool_b}


def train_cyclegan(config: CycleGANConfig, train_a, train_b, test=None, *,
                   checkpoint_dir=None, resume: bool = False, callbacks=(),
                   verbose: int = 2, strategy=None,
                   extra_state: dict | None = None) -> CycleGANResult:
    """Train a CycleGAN on two unpaired domains.

    Args:
        config: the run's settings.
        train_a, train_b: uint8 image batches of each domain in a fixed order
            and unaugmented (`load_unpaired(..., augment=False,
            shuffle=False)`): the epochs are shuffled and jittered here,
            resumably.
        test: held-out dicts from `validation_batches`, scored after every
            epoch, or None. The best weights are those of the lowest
            `val_l1_ab` when it has ground truth, else of the lowest
            `val_cycle_l1_a`.
        checkpoint_dir: where per-epoch checkpoints go; None keeps none.
        resume: continue from the newest intact checkpoint there.
        callbacks: Keras callbacks (MLflow, sample grids); their `model` is
            the GAN being trained.
        strategy: a tf.distribute strategy; default from `config.strategy`.
        extra_state: JSON values kept in the checkpoints' state under
            "extra" (a recipe's MLflow run id, for --resume).
    """
    strategy, epochs, model = build_model(
        config, strategy, lambda: UnalignedEpochs(train_a, train_b, config),
        lambda steps_per_epoch: build_cyclegan(config, steps_per_epoch))
    with strategy.scope():
        best_model = translators(model)
    checkpointer, state, resumed_from, objects = restore_or_start(
        model, epochs, config, checkpoint_objects, strategy, checkpoint_dir=checkpoint_dir,
        resume=resume, extra_state=extra_state)

    if test is None:
        monitor = Monitor("cycle_a", "min", patience=0)
    elif "true_b" in test.element_spec:
        monitor = Monitor("val_l1_ab", "min", patience=0)
    else:
        monitor = Monitor("val_cycle_l1_a", "min", patience=0)
    run_loop(model, epochs, test, config, state, monitor=monitor, strategy=strategy,
             checkpointer=checkpointer, objects=objects, best_model=best_model,
             callbacks=callbacks, verbose=verbose)
    return CycleGANResult(model=model, state=state, resumed_from=resumed_from)
