"""Inference speed: a zoo classifier against the plain Keras way, side by side.

The plain way is what the Keras docs show: a `keras.applications` backbone
with the same head, fed images that a separate `preprocess_input` call has
prepared. zoo's model takes the raw uint8 images and preprocesses inside the
graph. Same backbone, batch and input size; the two are timed in alternation
in one process, so drift in machine load hits both alike.

It also measures this machine's float32 matmul peak (FLOP/s of a large
matmul) and prints the fraction of it each backbone reaches.

    python benchmarks/inference.py                  # resnet50 inception_v3 vgg16 xception
    python benchmarks/inference.py --backbones resnet50 --batch 16 --repeats 5

Goal: ratio zoo/plain of at least 0.97.
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

import zoo  # noqa: E402
from zoo.preprocessing import reference_preprocess  # noqa: E402

NUM_CLASSES = 10


def matmul_peak_flops(sizes=(1024, 2048, 3072), repeats: int = 5) -> float:
    """The best FLOP/s of large float32 matmuls, over a few sizes: the
    practical peak of this machine's matmul kernels. (On some CPUs the
    convolution kernels run faster still, so a backbone can exceed 100%.)"""
    best = 0.0
    for n in sizes:
        a = tf.random.normal((n, n))
        b = tf.random.normal((n, n))
        matmul = tf.function(lambda x, y: tf.linalg.matmul(x, y))
        matmul(a, b).numpy()  # trace and warm up
        for _ in range(repeats):
            start = time.perf_counter()
            matmul(a, b).numpy()
            best = max(best, 2 * n**3 / (time.perf_counter() - start))
    return best


def _spatial(shape) -> int:
    return int(np.prod([d for d in shape[1:-1]])) if len(shape) > 2 else 1


def model_flops(model) -> int:
    """Multiply-add FLOPs (x2) of one image through the convolutions and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += model_flops(layer)
            continue
        if not hasattr(layer, "output") or not layer.weights:
            continue
        out_shape = layer.output.shape
        in_channels = layer.input.shape[-1]
        if isinstance(layer, keras.layers.SeparableConv2D):
            kh, kw = layer.kernel_size
            total += 2 * _spatial(out_shape) * in_channels * (kh * kw + out_shape[-1])
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += 2 * _spatial(out_shape) * out_shape[-1] * kh * kw
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            groups = getattr(layer, "groups", 1)
            total += 2 * _spatial(out_shape) * out_shape[-1] * kh * kw * in_channels // groups
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * _spatial(out_shape) * in_channels * out_shape[-1]
    return total


def plain_model(spec, input_shape):
    """The Keras-docs way: backbone + the same head, no preprocessing inside."""
    backbone = spec.build(input_shape, weights=None, pooling="avg")
    inputs = keras.Input(input_shape)
    x = backbone(inputs, training=False)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def bench_backbone(name: str, batch: int, repeats: int, size: int | None):
    spec = zoo.backbone_info(name)
    side = size or spec.default_size
    shape = (side, side, 3)
    images = np.random.default_rng(0).integers(0, 256, (batch, *shape), dtype=np.uint8)

    ours = zoo.create_classifier(name, NUM_CLASSES, weights=None, input_shape=shape)
    plain = plain_model(spec, shape)

    def run_zoo():
        ours.predict_on_batch(images)

    def run_plain():
        plain.predict_on_batch(reference_preprocess(spec.family, images.astype("float32")))

    run_zoo(), run_plain()  # trace and warm up both
    zoo_times, plain_times = [], []
    for _ in range(repeats):
        for runner, times in ((run_zoo, zoo_times), (run_plain, plain_times)):
            start = time.perf_counter()
            runner()
            times.append(time.perf_counter() - start)
    zoo_ips = batch / statistics.median(zoo_times)
    plain_ips = batch / statistics.median(plain_times)
    return spec, side, zoo_ips, plain_ips, model_flops(zoo.get_backbone(ours))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbones", nargs="+",
                        default=["resnet50", "inception_v3", "vgg16", "xception"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=None,
                        help="input side for every backbone (default: each one's default)")
    args = parser.parse_args(argv)

    peak = matmul_peak_flops()
    print(f"float32 matmul peak: {peak / 1e9:.1f} GFLOP/s  "
          f"(TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, "
          f"{len(tf.config.list_physical_devices('GPU'))} GPUs)")
    header = (f"{'backbone':<14} {'size':>4} {'batch':>5} {'zoo img/s':>10} "
              f"{'plain img/s':>11} {'zoo/plain':>9} {'GFLOP/img':>9} {'of peak':>7}")
    print(header)
    print("-" * len(header))
    ratios = []
    for name in args.backbones:
        spec, side, zoo_ips, plain_ips, flops = bench_backbone(
            name, args.batch, args.repeats, args.image_size)
        ratio = zoo_ips / plain_ips
        ratios.append(ratio)
        print(f"{spec.name:<14} {side:>4} {args.batch:>5} {zoo_ips:>10.2f} {plain_ips:>11.2f} "
              f"{ratio:>9.3f} {flops / 1e9:>9.2f} {zoo_ips * flops / peak:>7.1%}", flush=True)
    print(f"geometric mean zoo/plain: {statistics.geometric_mean(ratios):.3f}  (goal >= 0.97)")


if __name__ == "__main__":
    main()
