"""GAN train steps per second: zoo's step as the shared loop runs it, against
the same update order written as one plain `tf.function`, side by side, for
Pix2Pix and CycleGAN; and what share of this machine's convolution peak each
reaches.

- zoo: `Pix2Pix.train_step` built by `build_pix2pix` and compiled by the
  shared loop's own step builder (`zoo.training.loop.build_step`: `strategy.run`
  inside a `tf.function`, XLA-compiled when the model's `jit_compile` is set),
  metrics trackers included. It follows the paper's reference code: D learns
  on (A, B) and (A, G(A)), then G learns against the updated D.
- plain: that update order and those losses, written out as one
  `tf.function` over the same networks (zoo's builders, built under the same
  dtype policy), with two `Adam(2e-4, beta_1=0.5)`, and nothing else.
- CycleGAN, zoo: `CycleGAN.train_step` built by `build_cyclegan` (9-block
  ResNet generators, instance-norm PatchGANs, LSGAN, cycle and identity
  losses, both image pools inside the step), run by `build_step` as above.
- CycleGAN, plain: the same order (both generators against fixed
  discriminators, then both discriminators on half their loss) as one
  `tf.function`, one Adam for the generators and one for the discriminators,
  without the image pools (a random swap of a few images, no convolution).

The settings time both sides alike: fp32, jit (XLA), bf16 (the
`mixed_bfloat16` policy) and jit+bf16. Each step is called twice untimed
(tracing, compiling), then timed blocks of `--steps` steps alternate plain,
zoo, plain, zoo... `--repeats` times; the ratio is the median of the paired
ratios zoo/plain.

Share of peak: TensorFlow's profiler counts the plain fp32 step's floating
point operations (convolutions forward and backward, as in zoo's step); that
times the steps/s, over the GFLOP/s this machine reaches on one large 3x3
convolution (forward and backward, batch 8, 64x64x128, in the setting's
dtype), is the share. The last lines say which setting was fastest and what
`mixed_precision="auto"` picks on this machine (zoo.precision).

`--check-losses N` instead trains each setting N steps from the same weights
on the same batches and prints how far its losses are from fp32's
(`--no-dropout` leaves only the arithmetic to differ).

    python benchmarks/gan_step.py [--image-size 128] [--steps 5] [--repeats 5]
    python benchmarks/gan_step.py --models cyclegan --settings fp32 bf16
    python benchmarks/gan_step.py --check-losses 20 --settings fp32 jit bf16 jit+bf16
    python benchmarks/gan_step.py --quick       # 32 px, ngf 8: checks that it runs
    TF_ENABLE_ONEDNN_OPTS=0 python benchmarks/gan_step.py ...   # oneDNN off

Goal: zoo/plain of at least 1.0 in every setting, for each model.

Measured: see the README's benchmark table (CPU, oneDNN state and numbers).
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
from zoo.precision import cpu_computes_bfloat16  # noqa: E402
from zoo.seed import DEFAULT_SEED  # noqa: E402
from zoo.compat import onednn_enabled  # noqa: E402
from zoo.training.distribute import auto_precision, dtype_policy, precision_policy  # noqa: E402
from zoo.training.loop import build_step, prepare_for_steps  # noqa: E402

# name -> (jit_compile, mixed_precision), on both sides
SETTINGS = {"fp32": (False, "off"), "jit": (True, "off"), "bf16": (False, "bfloat16"),
            "jit+bf16": (True, "bfloat16")}
# The short name of the dtype each mixed_precision setting computes in.
DTYPE_NAMES = {"off": "fp32", "bfloat16": "bf16"}
SEED = DEFAULT_SEED
L1_WEIGHT = 100  # the Pix2Pix paper's weight of the L1 term
CYCLE_WEIGHT = 10  # the CycleGAN paper's weight of the cycle losses
IDENTITY_WEIGHT = 0.5  # its identity loss, as a share of the cycle weight
PEAK_SHAPE = (8, 64, 64, 128)  # the convolution that measures this machine's peak


def image_batches(count: int, image_size: int, batch: int):
    """`count` random (A, B) uint8 batches."""
    rng = np.random.default_rng(0)
    shape = (batch, image_size, image_size, 3)
    return [(tf.constant(rng.integers(0, 256, shape, dtype=np.uint8)),
             tf.constant(rng.integers(0, 256, shape, dtype=np.uint8))) for _ in range(count)]


def scaled(images):
    return tf.cast(images, tf.float32) / 127.5 - 1.0


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


def plain_step(setting: str, image_size: int, ngf: int):
    """Pix2Pix's update order (D on real and fake pairs, then G against the
    updated D), written as one tf.function over zoo's two networks."""
    jit_compile, mixed_precision = SETTINGS[setting]
    keras.utils.set_random_seed(SEED)
    with dtype_policy(precision_policy(mixed_precision)):
        generator = unet_generator(image_size, ngf=ngf)
        discriminator = patchgan_discriminator(6, ndf=ngf)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)

    def judged(a, b):
        return tf.cast(discriminator(tf.concat([a, b], -1), training=True), tf.float32)

    @tf.function(jit_compile=jit_compile)
    def train_step(a, b):
        a, b = scaled(a), scaled(b)
        g_variables = generator.trainable_variables
        d_variables = discriminator.trainable_variables
        with tf.GradientTape() as g_tape:
            fake = generator(a, training=True)
            with tf.GradientTape() as d_tape:
                real_logits, fake_logits = judged(a, b), judged(a, tf.stop_gradient(fake))
                d_loss = 0.5 * (bce(tf.ones_like(real_logits), real_logits)
                                + bce(tf.zeros_like(fake_logits), fake_logits))
            d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_variables), d_variables))
            logits = judged(a, fake)
            g_loss = bce(tf.ones_like(logits), logits) + L1_WEIGHT * tf.reduce_mean(
                tf.abs(b - tf.cast(fake, tf.float32)))
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_variables), g_variables))
        return g_loss, d_loss

    return train_step


def cyclegan_zoo_step(setting: str, image_size: int, ngf: int, first_batch):
    """zoo's CycleGAN (9 blocks, as the paper at 256 px) and its loop step."""
    jit_compile, mixed_precision = SETTINGS[setting]
    config = CycleGANConfig(image_size=image_size, n_blocks=9, ngf=ngf, ndf=ngf,
                            jit_compile=jit_compile, mixed_precision=mixed_precision)
    keras.utils.set_random_seed(SEED)
    with dtype_policy(precision_policy(mixed_precision)):
        model = build_cyclegan(config, steps_per_epoch=1000)
    strategy = tf.distribute.get_strategy()
    prepare_for_steps(model, first_batch, strategy)
    return build_step(model, strategy, model.train_step)


def cyclegan_plain_step(setting: str, image_size: int, ngf: int):
    """CycleGAN's update order (both generators against fixed discriminators,
    then both discriminators), written as one tf.function over zoo's networks."""
    jit_compile, mixed_precision = SETTINGS[setting]
    keras.utils.set_random_seed(SEED)
    with dtype_policy(precision_policy(mixed_precision)):
        g_ab = resnet_generator(9, ngf=ngf, image_size=image_size)
        g_ba = resnet_generator(9, ngf=ngf, image_size=image_size)
        d_a = patchgan_discriminator(3, ndf=ngf, norm="instance")
        d_b = patchgan_discriminator(3, ndf=ngf, norm="instance")
    g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)

    def lsgan(network, images, target):
        scores = tf.cast(network(images, training=True), tf.float32)
        return tf.reduce_mean(tf.square(scores - target))

    def l1(a, b):
        return tf.reduce_mean(tf.abs(a - tf.cast(b, tf.float32)))

    @tf.function(jit_compile=jit_compile)
    def train_step(a, b):
        a, b = scaled(a), scaled(b)
        g_variables = g_ab.trainable_variables + g_ba.trainable_variables
        d_variables = d_a.trainable_variables + d_b.trainable_variables
        with tf.GradientTape() as g_tape:
            fake_b, fake_a = g_ab(a, training=True), g_ba(b, training=True)
            g_loss = (lsgan(d_b, fake_b, 1.0) + lsgan(d_a, fake_a, 1.0)
                      + CYCLE_WEIGHT * (l1(a, g_ba(fake_b, training=True))
                                        + l1(b, g_ab(fake_a, training=True)))
                      + CYCLE_WEIGHT * IDENTITY_WEIGHT * (l1(b, g_ab(b, training=True))
                                                          + l1(a, g_ba(a, training=True))))
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_variables), g_variables))
        fake_a, fake_b = tf.stop_gradient(fake_a), tf.stop_gradient(fake_b)
        with tf.GradientTape() as d_tape:
            d_loss = 0.5 * (lsgan(d_a, a, 1.0) + lsgan(d_a, fake_a, 0.0)
                            + lsgan(d_b, b, 1.0) + lsgan(d_b, fake_b, 0.0))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_variables), d_variables))
        return g_loss, d_loss

    return train_step


def step_gflop(step, batch) -> float:
    """Floating point operations of one call of a plain (unjitted) step, as
    TensorFlow's profiler counts them on its graph, in GFLOP."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    graph = step.get_concrete_function(*batch).graph
    return model_analyzer.profile(graph, options=options).total_float_ops / 1e9


def conv_peak_gflops(mixed_precision: str, repeats: int = 3, calls: int = 5) -> float:
    """GFLOP/s of one large 3x3 convolution, forward and backward, in the
    dtype `mixed_precision` names: the best of `repeats` blocks of `calls`."""
    batch, height, width, channels = PEAK_SHAPE
    with dtype_policy(precision_policy(mixed_precision)):
        layer = keras.layers.Conv2D(channels, 3, padding="same")
        layer.build(PEAK_SHAPE)
    inputs = tf.random.uniform(PEAK_SHAPE)

    @tf.function
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.cast(layer(x), tf.float32))
        return tape.gradient(loss, [x, layer.kernel])

    # Forward, and the two backward convolutions (inputs and kernel).
    flop = 3 * 2 * batch * height * width * channels * channels * 9
    forward_backward(inputs)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            outputs = forward_backward(inputs)
        np.asarray(outputs[1])
        best = max(best, calls * flop / (time.perf_counter() - start) / 1e9)
    return best


def steps_per_second(run, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        outputs = run()
    np.asarray(tf.nest.flatten(outputs)[0])  # the last step has finished
    return steps / (time.perf_counter() - start)


def side_by_side(pairs: dict, steps: int, repeats: int):
    """Time each (plain, zoo) pair in alternating blocks.

    Every step is first called twice untimed (tracing, compiling, first-touch
    allocations). Then, `repeats` times, each pair's zoo block follows its
    plain block, and the ratio is that pair's.

    Returns:
        {name: (plain rates, zoo rates, ratios zoo/plain)}, lists of steps/s.
    """
    for plain, zoo in pairs.values():
        for run in (plain, zoo):
            for _ in range(2):
                steps_per_second(run, 1)
    timed = {name: ([], [], []) for name in pairs}
    for _ in range(repeats):
        for name, (plain, zoo) in pairs.items():
            plain_rate, zoo_rate = steps_per_second(plain, steps), steps_per_second(zoo, steps)
            timed[name][0].append(plain_rate)
            timed[name][1].append(zoo_rate)
            timed[name][2].append(zoo_rate / plain_rate)
    return timed


def benchmark(model: str, args, peaks: dict) -> dict:
    """Time zoo against plain in every setting; print a line each. Returns
    {setting: zoo steps/s}."""
    batch = image_batches(1, args.image_size, 1)[0]
    make_zoo, make_plain = {
        "pix2pix": (lambda s: zoo_step(s, args.image_size, args.ngf, batch)[1], plain_step),
        "cyclegan": (lambda s: cyclegan_zoo_step(s, args.image_size, args.ngf, batch),
                     cyclegan_plain_step)}[model]
    gflop = step_gflop(make_plain("fp32", args.image_size, args.ngf), batch)
    pairs = {}
    for setting in args.settings:
        plain, zoo = make_plain(setting, args.image_size, args.ngf), make_zoo(setting)
        pairs[setting] = (lambda plain=plain: plain(*batch), lambda zoo=zoo: zoo(batch))
    timed = side_by_side(pairs, args.steps, args.repeats)
    print(f"{model} at {args.image_size} px, batch 1, ngf=ndf={args.ngf}, {gflop:.1f} GFLOP "
          f"a step: {args.repeats} x {args.steps} steps per side", flush=True)
    rates = {}
    for setting, (plain_rates, zoo_rates, ratios) in timed.items():
        rate = rates[setting] = statistics.median(zoo_rates)
        peak = peaks[SETTINGS[setting][1]]
        print(f"{model} {setting} ratio zoo/plain: {statistics.median(ratios):.2f}  "
              f"(zoo {rate:.3f} steps/s, plain {statistics.median(plain_rates):.3f} steps/s; "
              f"zoo {gflop * rate:.1f} GFLOP/s, {gflop * rate / peak:.0%} of the "
              f"{DTYPE_NAMES[SETTINGS[setting][1]]} conv peak)", flush=True)
    return rates


def check_losses(args) -> None:
    """Each setting's per-step losses against fp32's, from the same weights and data."""
    batches = image_batches(args.check_losses, args.image_size, 1)
    losses = {}
    for setting in dict.fromkeys(["fp32", *args.settings]):
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


def machine_line() -> str:
    flags = "AMX-BF16" if cpu_computes_bfloat16() else "no AMX-BF16"
    return (f"{os.cpu_count()} CPUs, {flags}, oneDNN {'on' if onednn_enabled() else 'off'}, "
            f"{len(tf.config.list_physical_devices('GPU'))} GPUs")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--ngf", type=int, default=64, help="first-block filters of G and D")
    parser.add_argument("--steps", type=int, default=5, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["pix2pix", "cyclegan"],
                        choices=["pix2pix", "cyclegan"])
    parser.add_argument("--settings", nargs="+", default=["fp32", "bf16"],
                        choices=list(SETTINGS), help="each timed on both sides alike")
    parser.add_argument("--check-losses", type=int, default=0, metavar="N",
                        help="compare N Pix2Pix steps' losses with fp32's instead of timing")
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
    print(f"machine: {machine_line()}")
    precisions = {SETTINGS[setting][1] for setting in args.settings}
    peaks = {precision: conv_peak_gflops(precision) for precision in sorted(precisions)}
    for precision, peak in peaks.items():
        print(f"conv peak {DTYPE_NAMES[precision]}: {peak:.1f} GFLOP/s "
              f"(3x3, {'x'.join(map(str, PEAK_SHAPE))}, forward and backward)")
    auto, reason = auto_precision(bfloat16_on_cpu=True)
    for model in args.models:
        rates = benchmark(model, args, peaks)
        print(f"{model} fastest here: {max(rates, key=rates.get)}; "
              f"mixed_precision='auto' picks {auto} ({reason})", flush=True)
    print("goal: zoo/plain >= 1.0")


if __name__ == "__main__":
    main()
