"""Train a Pix2Pix model through zoo's one training loop, resumably.

`train_pix2pix` builds the networks and optimizers the config asks for,
feeds the loop one epoch at a time, and checkpoints the generator, the
discriminator, both optimizers (and so the learning-rate schedule's
position) and the dropout random state after every epoch. The data of epoch
e are shuffled and jittered with seeds of e only, so a run killed at any
moment and resumed ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

from zoo.data.augment import gan_augment
from zoo.gan.layers import NORMS
from zoo.gan.losses import GAN_LOSSES
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.pix2pix.model import TEST_MODES, Pix2Pix
from zoo.gan.pix2pix.unet import unet_depth, unet_generator
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
class Pix2PixConfig(EpochsConfig):
    """What to train and how; the defaults are the paper's.

    Args:
        image_size: training side in pixels, a power of two (the U-Net goes
            down to 1x1).
        epochs: epochs at the full learning rate.
        decay_epochs: epochs of linear decay towards 0 after them.
        batch_size: pairs per step (the paper uses 1).
        learning_rate, beta_1: Adam's, for both networks.
        gan_loss: `"vanilla"` or `"lsgan"`.
        l1_weight: lambda of the L1 term.
        norm: `"batch"` or `"instance"`.
        ngf, ndf: first-block filters of the generator and discriminator.
        n_layers_d: the PatchGAN's stride-2 blocks: 3 sees 70x70 patches,
            1 sees 16x16 (the reference's `--n_layers_D`).
        test_mode: `"paper"` (dropout and batch statistics at test time) or
            `"deterministic"`.
        adversarial: False trains the L1-only baseline (no discriminator).
        augment: the papers' jitter and flip of the training pairs.
        seed: seeds weights, shuffling, jitter and dropout.
        jit_compile: XLA-compile the train step.
        mixed_precision: "auto", "off", "float16" (with loss scaling) or
            "bfloat16", as zoo.precision says; "auto" computes in bfloat16 on
            AMX CPUs only for networks large enough to gain from it.
        strategy: `"default"`, `"mirrored"` or `"multi_worker"`.
    """

    image_size: int = 256
    epochs: int = 100
    decay_epochs: int = 100
    batch_size: int = 1
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    gan_loss: str = "vanilla"
    l1_weight: float = 100.0
    norm: str = "batch"
    ngf: int = 64
    ndf: int = 64
    n_layers_d: int = 3
    test_mode: str = "paper"
    adversarial: bool = True
    augment: bool = True
    seed: int = DEFAULT_SEED
    jit_compile: bool = False
    mixed_precision: str = "auto"
    strategy: str = "default"

    # "auto" computes in bfloat16 on an AMX CPU from this image_size x ngf on
    # (zoo.gan.run_setup.bfloat16_wins_on_cpu): 1.13x float32's speed at 128 px,
    # ngf 64; 0.85x at 64 px; 0.81x at 32 px, ngf 8 (benchmarks/gan_step.py).
    BFLOAT16_FROM = 8192

    def __post_init__(self):
        self.mixed_precision = check_mixed_precision(self.mixed_precision)
        for option, value, choices in (("gan_loss", self.gan_loss, GAN_LOSSES),
                                       ("norm", self.norm, NORMS),
                                       ("test_mode", self.test_mode, TEST_MODES)):
            if value not in choices:
                raise ValueError(f"{option} must be one of {', '.join(choices)}. "
                                 f"Received: {option}={value!r}")
        unet_depth(self.image_size)  # a clear error for sizes the U-Net cannot take
        smallest = smallest_input(self.n_layers_d)
        if self.adversarial and self.image_size < smallest:
            raise ValueError(f"image_size must be at least {smallest} for the PatchGAN "
                             f"to score one patch. Received: image_size={self.image_size}")


@dataclass
class Pix2PixResult:
    """model: the trained Pix2Pix (its `generator` is what is used);
    state: the loop's state (history, epochs done); resumed_from: the epoch
    a resumed run started at, else None."""

    model: Pix2Pix
    state: dict
    resumed_from: int | None = None


class PairEpochs:
    """The training pairs of each epoch, shuffled and jittered with seeds of
    the epoch and the pair's position only.

    Args:
        pairs: a dataset of (A, B) uint8 batches, in a fixed order, unaugmented.
        config: batch size, seed and whether to augment.
    """

    def __init__(self, pairs, config: Pix2PixConfig):
        self.pairs = pairs.unbatch()
        count = int(self.pairs.cardinality())
        if count < 0:  # streamed from a file cache: count once
            count = sum(1 for _ in self.pairs)
        self.count = count
        self.pairs = self.pairs.apply(tf.data.experimental.assert_cardinality(count))
        self.config = config

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.count / self.config.batch_size))

    def __call__(self, epoch: int):
        config = self.config
        epoch_seed = config.seed * 1000 + epoch
        ds = self.pairs.shuffle(max(self.count, 1), seed=epoch_seed,
                                reshuffle_each_iteration=False)
        if config.augment:
            def jitter(index, pair):
                return gan_augment(*pair, seed=tf.stack([tf.constant(epoch_seed, tf.int64),
                                                         index]))

            ds = ds.enumerate().map(jitter, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)

    def sources(self, limit: int = 512):
        """The A images in a fixed order, for precise BN."""
        return self.pairs.take(limit).map(lambda a, b: a).batch(self.config.batch_size)


def build_pix2pix(config: Pix2PixConfig, steps_per_epoch: int) -> Pix2Pix:
    """The networks, optimizers and losses of a config, compiled."""
    generator = unet_generator(config.image_size, ngf=config.ngf, norm=config.norm)
    discriminator = (patchgan_discriminator(6, n_layers=config.n_layers_d, ndf=config.ndf,
                                            norm=config.norm)
                     if config.adversarial else None)
    model = Pix2Pix(generator, discriminator, test_mode=config.test_mode,
                    adversarial=config.adversarial)

    d_optimizer = papers_adam(config, steps_per_epoch) if config.adversarial else None
    model.compile(papers_adam(config, steps_per_epoch), d_optimizer, gan_loss=config.gan_loss,
                  l1_weight=config.l1_weight, jit_compile=config.jit_compile)
    return model


def checkpoint_objects(model: Pix2Pix) -> dict:
    objects = {"generator": model.generator, **model.optimizers()}
    if model.discriminator is not None:
        objects["discriminator"] = model.discriminator
    return objects


def train_pix2pix(config: Pix2PixConfig, train, test=None, *, checkpoint_dir=None,
                  resume: bool = False, callbacks=(), verbose: int = 2,
                  strategy=None, extra_state: dict | None = None) -> Pix2PixResult:
    """Train Pix2Pix on (A, B) pairs.

    Args:
        config: the run's settings.
        train: (A, B) uint8 batches in a fixed order and unaugmented
            (`load_pairs(..., augment=False, shuffle=False)`): the epochs are
            shuffled and jittered here, resumably.
        test: held-out (A, B) batches scored after every epoch, or None.
        checkpoint_dir: where per-epoch checkpoints go; None keeps none.
        resume: continue from the newest intact checkpoint there.
        callbacks: Keras callbacks (MLflow, sample grids); their `model` is
            the GAN being trained.
        strategy: a tf.distribute strategy; default from `config.strategy`.
        extra_state: JSON values kept in the checkpoints' state under
            "extra" (a recipe's MLflow run id, for --resume).
    """
    strategy, epochs, model = build_model(
        config, strategy, lambda: PairEpochs(train, config),
        lambda steps_per_epoch: build_pix2pix(config, steps_per_epoch))
    checkpointer, state, resumed_from, objects = restore_or_start(
        model, epochs, config, checkpoint_objects, strategy, checkpoint_dir=checkpoint_dir,
        resume=resume, extra_state=extra_state)
    monitor = Monitor("val_l1", "min", patience=0) if test is not None else Monitor(
        "g_l1", "min", patience=0)
    # Paper mode never uses the running statistics, so precise BN is skipped.
    batchnorm_data = epochs.sources() if config.test_mode == "deterministic" else None
    run_loop(model, epochs, test, config, state, monitor=monitor, strategy=strategy,
             checkpointer=checkpointer, objects=objects, best_model=model.generator,
             callbacks=callbacks, verbose=verbose,
             batchnorm_data=batchnorm_data)
    return Pix2PixResult(model=model, state=state, resumed_from=resumed_from)
