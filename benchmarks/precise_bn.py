"""What precise BN costs next to the training epoch it follows.

A classifier trained from scratch trains its BatchNorm layers, so the shared
training loop recomputes their statistics over up to 512 training images
before each validation (`zoo.training.recompute_batchnorm_statistics`).
This times, side by side in one run, one training epoch of mobilenet_v3_small
from scratch on an embedded set, and the precise-BN pass that follows it,
alternating the two `--repeats` times after an untimed warm-up of each (which
pays for tracing). Both are timed inside one `TrainingLoop.run`, as in real
training: the epoch from its start to its last step, precise BN from there
to the epoch's end. Prints the median seconds of each and their ratio (goal:
precise BN / epoch <= 0.25).

    python benchmarks/precise_bn.py [--data digits] [--image-size 32] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import keras

    from zoo import create_classifier, unfreeze_last_blocks
    from zoo.data import load_classification
    from zoo.training import Monitor, TrainingLoop, new_state
    from zoo.training.loop import PRECISE_BN_EXAMPLES

    train, _, class_names = load_classification(args.data, args.image_size, args.batch_size,
                                                seed=0, shuffle=False)
    one_hot = train.map(lambda x, y: (x, keras.ops.one_hot(y, len(class_names))))
    images = train.unbatch().take(PRECISE_BN_EXAMPLES).batch(args.batch_size).map(
        lambda x, y: x)
    keras.utils.set_random_seed(0)
    model = create_classifier("mobilenet_v3_small", len(class_names), weights=None,
                              input_shape=args.image_size)
    unfreeze_last_blocks(model, 13, train_batchnorm=True)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.CategoricalCrossentropy())
    marks = {"begin": [], "last_step": [], "end": []}

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            marks["begin"].append(time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):
            marks["last_step"][epoch_index():] = [time.perf_counter()]

        def on_epoch_end(self, epoch, logs=None):
            marks["end"].append(time.perf_counter())

    def epoch_index():
        return len(marks["begin"]) - 1

    loop = TrainingLoop(new_state(), monitor=Monitor("loss", patience=0), verbose=0,
                        callbacks=[Clock()])
    # The first epoch pays for tracing both; it is not counted.
    loop.run(model, lambda e: one_hot, None, args.repeats + 1, batchnorm_data=images)
    timings = {
        "epoch": [s - b for b, s in zip(marks["begin"][1:], marks["last_step"][1:])],
        "precise": [e - s for s, e in zip(marks["last_step"][1:], marks["end"][1:])],
    }
    epoch_s, precise_s = (statistics.median(timings[k]) for k in ("epoch", "precise"))
    steps = sum(1 for _ in one_hot)
    print(f"{args.data} at {args.image_size} px, batch {args.batch_size}: one epoch "
          f"({steps} steps) {epoch_s:.2f} s, precise BN over "
          f"{min(PRECISE_BN_EXAMPLES, steps * args.batch_size)} images {precise_s:.2f} s")
    print(f"precise BN / epoch: {precise_s / epoch_s:.3f}")


if __name__ == "__main__":
    main()
