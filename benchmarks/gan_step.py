"""GAN train steps per second: zoo's step as the shared loop runs it, against
the TensorFlow tutorials' plain step, side by side, for Pix2Pix and CycleGAN.

- zoo: `Pix2Pix.train_step` built by `build_pix2pix` and compiled by the
  shared loop's own step builder (`zoo.training.loop.build_step`: `strategy.run`
  inside a `tf.function`, the step itself XLA-compiled when the model's
  `jit_compile` is set). It does what the paper's reference code does:
  D learns on (A, B) and (A, G(A)), then G learns against the updated D, so
  D runs forward three times per step.
- plain: the TensorFlow pix2pix tutorial's `train_step`: one `tf.function`,
  a generator tape and a discriminator tape open together, BCE from logits,
  L1 * 100, two `Adam(2e-4, beta_1=0.5)`; D runs forward twice and both
  networks update at once. Same U-Net and PatchGAN (zoo's builders), fed
  images already scaled to [-1, 1] as the tutorial's input pipeline does.

- CycleGAN, zoo: `CycleGAN.train_step` built by `build_cyclegan` (9-block
  ResNet generators, instance-norm PatchGANs, LSGAN, cycle and identity
  losses, both image pools inside the step), run by `build_step` as above.
- CycleGAN, plain: the TensorFlow CycleGAN tutorial's `train_step` with the
  paper's losses: one `tf.function`, one persistent tape, four Adam
  optimizers, MSE GAN losses, cycle x 10 for both generators, identity x 5,
  halved discriminator losses, and no image pool. Same networks.

Both step on one fixed batch (no input pipeline). Each is called twice
untimed (tracing and compiling), then timed blocks of `--steps` steps
alternate plain, zoo, plain, zoo... `--repeats` times. It prints the median
steps/s of each and the median of the paired ratios zoo/plain (each zoo
block over the plain block just before it).

`--zoo-settings` times several zoo variants in the same run, each against
its own plain block: fp32, jit (XLA), bf16 (the `mixed_bfloat16` policy),
jit+bf16. `--check-losses N` instead trains each setting N steps from the
same weights on the same batches and prints how far its losses are from
fp32's (`--no-dropout` leaves only the arithmetic to differ).

    python benchmarks/gan_step.py [--image-size 128] [--steps 5] [--repeats 5]
    python benchmarks/gan_step.py --models cyclegan
    python benchmarks/gan_step.py --zoo-settings fp32 jit bf16 jit+bf16
    python benchmarks/gan_step.py --check-losses 20 --zoo-settings fp32 jit bf16 jit+bf16
    python benchmarks/gan_step.py --quick       # 32 px, ngf 8: checks that it runs

Goal: ratio zoo/plain of at least 1.2, for each model.

Measured here (2 shared AVX2 cores, no AVX-512, so no native bfloat16;
128 px, 5-7 repeats of 5 steps, under load): fp32 0.86-0.94, jit 0.90,
bf16 0.17, jit+bf16 0.78-0.85. The third D forward makes zoo's step 7.8%
more convolution work than the tutorial's (21.2 against 19.7 GFLOP), so with
the same oneDNN kernels on both sides 0.93 is its ceiling. bf16 without XLA
runs Eigen's scalar bfloat16 convolutions (5x slower); XLA computes it in
float32 and adds casts. Against fp32, over 10 steps from the same weights,
jit and bf16 move the losses by at most 0.5% with dropout off, 2% with it
on (XLA and bfloat16 draw other dropout masks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo.gan import patchgan_discriminator, resnet_generator, unet_generator  # noqa: E402
from zoo.gan.cyclegan.training import CycleGANConfig, build_cyclegan  # noqa: E402
from zoo.gan.pix2pix.model import TRAIN_METRICS  # noqa: E402
from zoo.gan.pix2pix.training import Pix2PixConfig, build_pix2pix  # noqa: E402
from zoo.training.distribute import dtype_policy, precision_policy  # noqa: E402
from zoo.training.loop import build_step, prepare_for_steps  # noqa: E402

# name -> (jit_compile, mixed_precision) of Pix2PixConfig
SETTINGS = {"fp32": (False, "off"), "jit": (True, "off"), "bf16": (False, "bfloat16"),
            "jit+bf16": (True, "bfloat16")}
SEED = 1337
LAMBDA = 100  # the tutorial's weight of the L1 term
CYCLE_LAMBDA = 10  # the CycleGAN paper's weight of the cycle losses


def image_batches(count: int, image_size: int, batch: int):
    """`count` random (A, B) uint8 batches."""
    rng = np.random.default_rng(0)
    shape = (batch, image_size, image_size, 3)
    return [(tf.constant(rng.integers(0, 256, shape, dtype=np.uint8)),
             tf.constant(rng.integers(0, 256, shape, dtype=np.uint8))) for _ in range(count)]


def zoo_step(setting: str, image_size: int, ngf: int, first_batch, dropout: bool = True):
    """zoo's Pix2Pix under one setting, and the step the shared loop would run."""
    jit_compile, mixed_precision = SETTINGS[setting]
    config = Pix2PixConfig(image_size=image_size, ngf=ngf, ndf=ngf, batch_size=1,
                           jit_compile=jit_compile, mixed_precision=mixed_precision)
    keras.utils.set_random_seed(SEED)
    # As train_pix2pix does: the policy holds while the networks are built.
    with dtype_policy(precision_policy(mixed_precision)):
        model = build_pix2pix(config, steps_per_epoch=1000)
    if not dropout:
        for layer in model.generator.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0  # read when the step is traced
    strategy = tf.distribute.get_strategy()
    prepare_for_steps(model, first_batch, strategy)
    return model, build_step(model, strategy, model.train_step)


def plain_step(image_size: int, ngf: int):
    """The TensorFlow pix2pix tutorial's train step over zoo's two networks."""
    keras.utils.set_random_seed(SEED)
    generator = unet_generator(image_size, ngf=ngf)
    discriminator = patchgan_discriminator(6, ndf=ngf)
    loss_object = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    discriminator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)

    def generator_loss(disc_generated_output, gen_output, target):
        gan_loss = loss_object(tf.ones_like(disc_generated_output), disc_generated_output)
        l1_loss = tf.reduce_mean(tf.abs(target - gen_output))
        return gan_loss + LAMBDA * l1_loss

    def discriminator_loss(disc_real_output, disc_generated_output):
        real_loss = loss_object(tf.ones_like(disc_real_output), disc_real_output)
        generated_loss = loss_object(tf.zeros_like(disc_generated_output),
                                     disc_generated_output)
        return real_loss + generated_loss

    @tf.function
    def train_step(input_image, target):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)
            disc_real_output = discriminator(tf.concat([input_image, target], -1),
                                             training=True)
            disc_generated_output = discriminator(tf.concat([input_image, gen_output], -1),
                                                  training=True)
            gen_total_loss = generator_loss(disc_generated_output, gen_output, target)
            disc_loss = discriminator_loss(disc_real_output, disc_generated_output)
        generator_gradients = gen_tape.gradient(gen_total_loss, generator.trainable_variables)
        discriminator_gradients = disc_tape.gradient(disc_loss,
                                                     discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(generator_gradients,
                                                generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(discriminator_gradients,
                                                    discriminator.trainable_variables))
        return gen_total_loss, disc_loss

    return train_step


def cyclegan_zoo_step(image_size: int, ngf: int, first_batch):
    """zoo's CycleGAN (9 blocks, as the paper at 256 px) and its loop step."""
    config = CycleGANConfig(image_size=image_size, n_blocks=9, ngf=ngf, ndf=ngf)
    keras.utils.set_random_seed(SEED)
    model = build_cyclegan(config, steps_per_epoch=1000)
    strategy = tf.distribute.get_strategy()
    prepare_for_steps(model, first_batch, strategy)
    return build_step(model, strategy, model.train_step)


def cyclegan_plain_step(image_size: int, ngf: int):
    """The TensorFlow CycleGAN tutorial's step, with the paper's losses, over
    zoo's networks."""
    keras.utils.set_random_seed(SEED)
    generator_g = resnet_generator(9, ngf=ngf, image_size=image_size)
    generator_f = resnet_generator(9, ngf=ngf, image_size=image_size)
    discriminator_x = patchgan_discriminator(3, ndf=ngf, norm="instance")
    discriminator_y = patchgan_discriminator(3, ndf=ngf, norm="instance")
    optimizers = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)]
    mse = keras.losses.MeanSquaredError()

    def generator_loss(generated):
        return mse(tf.ones_like(generated), generated)

    def discriminator_loss(real, generated):
        return 0.5 * (mse(tf.ones_like(real), real) + mse(tf.zeros_like(generated), generated))

    def l1(a, b):
        return tf.reduce_mean(tf.abs(a - b))

    @tf.function
    def train_step(real_x, real_y):
        with tf.GradientTape(persistent=True) as tape:
            fake_y = generator_g(real_x, training=True)
            cycled_x = generator_f(fake_y, training=True)
            fake_x = generator_f(real_y, training=True)
            cycled_y = generator_g(fake_x, training=True)
            same_x = generator_f(real_x, training=True)
            same_y = generator_g(real_y, training=True)
            disc_real_x = discriminator_x(real_x, training=True)
            disc_real_y = discriminator_y(real_y, training=True)
            disc_fake_x = discriminator_x(fake_x, training=True)
            disc_fake_y = discriminator_y(fake_y, training=True)
            total_cycle = CYCLE_LAMBDA * (l1(real_x, cycled_x) + l1(real_y, cycled_y))
            total_g = generator_loss(disc_fake_y) + total_cycle + \
                0.5 * CYCLE_LAMBDA * l1(real_y, same_y)
            total_f = generator_loss(disc_fake_x) + total_cycle + \
                0.5 * CYCLE_LAMBDA * l1(real_x, same_x)
            disc_x = discriminator_loss(disc_real_x, disc_fake_x)
            disc_y = discriminator_loss(disc_real_y, disc_fake_y)
        for loss, network, optimizer in ((total_g, generator_g, optimizers[0]),
                                         (total_f, generator_f, optimizers[1]),
                                         (disc_x, discriminator_x, optimizers[2]),
                                         (disc_y, discriminator_y, optimizers[3])):
            variables = network.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return total_g, disc_x

    return train_step


def steps_per_second(run, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        outputs = run()
    np.asarray(tf.nest.flatten(outputs)[0])  # the last step has finished
    return steps / (time.perf_counter() - start)


def one_batch(image_size: int):
    """One (A, B) uint8 batch, and the same scaled to [-1, 1] as the tutorials'
    input pipelines hand it to their plain steps."""
    a, b = image_batches(1, image_size, 1)[0]
    return (a, b), (tf.cast(a, tf.float32) / 127.5 - 1.0, tf.cast(b, tf.float32) / 127.5 - 1.0)


def side_by_side(plain, zoo_runs: dict, steps: int, repeats: int):
    """Time the plain step against each zoo step in alternating blocks.

    Every step is first called twice untimed (tracing, compiling, first-touch
    allocations). Then, `repeats` times, each zoo step's block follows a
    plain block of its own, and the ratio is that pair's.

    Returns:
        (plain rates, {name: zoo rates}, {name: ratios zoo/plain}), lists of
        steps/s over the repeats.
    """
    for run in (plain, *zoo_runs.values()):
        for _ in range(2):
            steps_per_second(run, 1)
    plain_rates = []
    rates = {name: [] for name in zoo_runs}
    ratios = {name: [] for name in zoo_runs}
    for _ in range(repeats):
        for name, run in zoo_runs.items():
            plain_rate = steps_per_second(plain, steps)
            zoo_rate = steps_per_second(run, steps)
            plain_rates.append(plain_rate)
            rates[name].append(zoo_rate)
            ratios[name].append(zoo_rate / plain_rate)
    return plain_rates, rates, ratios


def benchmark(args) -> None:
    batch, scaled = one_batch(args.image_size)
    plain = plain_step(args.image_size, args.ngf)
    runners = {}
    for setting in args.zoo_settings:
        _, step = zoo_step(setting, args.image_size, args.ngf, batch)
        runners[setting] = lambda step=step: step(batch)
    plain_rates, rates, ratios = side_by_side(lambda: plain(*scaled), runners, args.steps,
                                              args.repeats)
    plain_median = statistics.median(plain_rates)
    print(f"Pix2Pix at {args.image_size} px, batch 1, ngf=ndf={args.ngf}: "
          f"{args.repeats} x {args.steps} steps per side ({os.cpu_count()} CPUs)")
    for setting in args.zoo_settings:
        print(f"pix2pix ratio zoo/plain: {statistics.median(ratios[setting]):.2f}  "
              f"(zoo {setting} {statistics.median(rates[setting]):.3f} steps/s, "
              f"plain {plain_median:.3f} steps/s)", flush=True)
    print("goal: zoo/plain >= 1.2")


def benchmark_cyclegan(args) -> None:
    batch, scaled = one_batch(args.image_size)
    plain = cyclegan_plain_step(args.image_size, args.ngf)
    zoo = cyclegan_zoo_step(args.image_size, args.ngf, batch)
    plain_rates, rates, ratios = side_by_side(lambda: plain(*scaled),
                                              {"zoo": lambda: zoo(batch)}, args.steps,
                                              args.repeats)
    print(f"CycleGAN at {args.image_size} px, batch 1, resnet9, ngf=ndf={args.ngf}: "
          f"{args.repeats} x {args.steps} steps per side ({os.cpu_count()} CPUs)")
    print(f"cyclegan ratio zoo/plain: {statistics.median(ratios['zoo']):.2f}  "
          f"(zoo {statistics.median(rates['zoo']):.3f} steps/s, "
          f"plain {statistics.median(plain_rates):.3f} steps/s)", flush=True)
    print("goal: zoo/plain >= 1.2")


def check_losses(args) -> None:
    """Each setting's per-step losses against fp32's, from the same weights and data."""
    batches = image_batches(args.check_losses, args.image_size, 1)
    losses = {}
    for setting in dict.fromkeys(["fp32", *args.zoo_settings]):
        model, step = zoo_step(setting, args.image_size, args.ngf, batches[0],
                               dropout=not args.no_dropout)
        per_step = []
        for batch in batches:
            model.reset_metrics()  # the logs are running means; this makes them per step
            logs = step(batch)
            per_step.append([float(logs[name]) for name in TRAIN_METRICS])
        losses[setting] = np.array(per_step)
    reference = losses["fp32"]
    print(f"losses over {args.check_losses} steps at {args.image_size} px against fp32"
          f"{', dropout off' if args.no_dropout else ''} "
          f"(first step; largest relative difference over all steps):")
    for setting, values in losses.items():
        relative = np.abs(values - reference) / np.maximum(np.abs(reference), 1e-6)
        cells = "  ".join(f"{name} {values[0, i]:.4f} ({relative[:, i].max():.1%})"
                          for i, name in enumerate(TRAIN_METRICS))
        print(f"  {setting:<9} {cells}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--ngf", type=int, default=64, help="first-block filters of G and D")
    parser.add_argument("--steps", type=int, default=5, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["pix2pix", "cyclegan"],
                        choices=["pix2pix", "cyclegan"])
    parser.add_argument("--zoo-settings", nargs="+", default=["fp32"], choices=list(SETTINGS),
                        help="Pix2Pix only")
    parser.add_argument("--check-losses", type=int, default=0, metavar="N",
                        help="compare N steps' losses with fp32's instead of timing")
    parser.add_argument("--no-dropout", action="store_true",
                        help="with --check-losses: turn the U-Net's dropout off, so that only "
                             "the arithmetic differs (XLA draws other dropout masks)")
    parser.add_argument("--quick", action="store_true",
                        help="32 px, ngf 8, 2 x 2 steps: checks that the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.image_size, args.ngf, args.steps, args.repeats = 32, 8, 2, 2
    if args.steps < 1 or args.repeats < 1:
        parser.error(f"--steps and --repeats must be at least 1. "
                     f"Received: --steps {args.steps} --repeats {args.repeats}")
    if args.check_losses:
        check_losses(args)
        return
    if "pix2pix" in args.models:
        benchmark(args)
    if "cyclegan" in args.models:
        benchmark_cyclegan(args)


if __name__ == "__main__":
    main()
