"""Is the folder input pipeline ever what training waits for?

Writes a few hundred JPEGs across a few classes into a temporary folder, then
trains the same small classifier for the same number of steps twice:

1. from the folder through `zoo.data.load_classification`, timed from the
   call that scans and decodes the folder to the last step;
2. from the same images already decoded in memory
   (`tf.data.Dataset.from_tensor_slices` of a numpy array, same batch size,
   shuffle, prefetch).

Prints steps/s of both and their ratio (goal: folder / in-memory >= 0.95).
Each run builds and compiles a fresh model inside its timing; an untimed
warm-up fit first pays TensorFlow's one-off start-up costs for neither. The
runs alternate folder, memory, memory, folder (--repeats times), so that a
machine whose load drifts during the benchmark favours neither. The headline
ratio compares the median run of each kind, which one disturbed run does not
move; the totals (steps over seconds of each kind) are printed too. On a
machine shared with other
work, wall-clock rates swing; the CPU seconds this process spends per step
(which include decoding threads) are printed too, as they barely depend on
other processes.

    python benchmarks/input_pipeline.py [--images 480] [--steps 80] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

CLASSES = ("circle", "square", "triangle", "stripes")
IMAGE_SIZE = 64
BATCH_SIZE = 32
SEED = 0


def write_jpegs(root: str, count: int, rng: np.random.Generator) -> None:
    """count JPEGs of random sizes around 320x240, a drawn shape per class."""
    from PIL import Image, ImageDraw

    for i in range(count):
        name = CLASSES[i % len(CLASSES)]
        width, height = int(rng.integers(280, 360)), int(rng.integers(200, 280))
        background = tuple(int(v) for v in rng.integers(0, 256, 3))
        image = Image.new("RGB", (width, height), background)
        draw = ImageDraw.Draw(image)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y, r = width // 2 + rng.integers(-40, 40), height // 2 + rng.integers(-40, 40), 60
        if name == "circle":
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        elif name == "square":
            draw.rectangle((x - r, y - r, x + r, y + r), fill=colour)
        elif name == "triangle":
            draw.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=colour)
        else:
            for stripe in range(0, width, 24):
                draw.rectangle((stripe, 0, stripe + 10, height), fill=colour)
        os.makedirs(os.path.join(root, name), exist_ok=True)
        image.save(os.path.join(root, name, f"{i:05d}.jpg"), quality=90)


def build_model():
    import keras

    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), dtype="uint8")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for filters in (16, 32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(dataset, steps: int) -> float:
    """Fit a fresh model for `steps` steps; return the final training accuracy."""
    model = build_model()
    history = model.fit(dataset.repeat(), steps_per_epoch=steps, epochs=1, verbose=0)
    return history.history["accuracy"][-1]


def batches_per_second(dataset, count: int = 300) -> float:
    """How fast a pipeline alone delivers batches (after one warm-up batch)."""
    iterator = iter(dataset.repeat())
    next(iterator)
    start = time.perf_counter()
    for _ in range(count):
        next(iterator)
    return count / (time.perf_counter() - start)


def decode_in_memory(root: str):
    """The same images, decoded and resized ahead of time, outside any timing."""
    from zoo.data.images import decode_resized

    paths, labels = [], []
    for label, name in enumerate(sorted(CLASSES)):
        folder = os.path.join(root, name)
        for file in sorted(os.listdir(folder)):
            paths.append(os.path.join(folder, file))
            labels.append(label)
    images = np.stack([decode_resized(p, (IMAGE_SIZE, IMAGE_SIZE)) for p in paths])
    return images, np.array(labels, dtype=np.int32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=480, help="JPEG files to write")
    parser.add_argument("--steps", type=int, default=80, help="training steps per run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each kind, in the order F M M F F M ...")
    args = parser.parse_args()

    import tensorflow as tf

    import zoo.data

    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "shapes")
        write_jpegs(root, args.images, np.random.default_rng(SEED))
        print(f"{args.images} JPEGs in {len(CLASSES)} classes, {IMAGE_SIZE}x{IMAGE_SIZE}, "
              f"batch {BATCH_SIZE}, {args.steps} steps per run, {os.cpu_count()} CPUs")

        images, labels = decode_in_memory(root)
        warm_up = tf.data.Dataset.from_tensor_slices((images[:64], labels[:64])).batch(32)
        train(warm_up, 4)

        seconds = {"folder": [], "memory": []}
        cpu_seconds = {"folder": 0.0, "memory": 0.0}
        load_seconds = []
        for run in range(2 * args.repeats):
            kind = "folder" if run % 4 in (0, 3) else "memory"
            start, cpu_start = time.perf_counter(), time.process_time()
            if kind == "folder":
                dataset, _, _ = zoo.data.load_classification(
                    root, IMAGE_SIZE, batch_size=BATCH_SIZE, validation_split=0.0,
                    seed=SEED + run, cache_dir=os.path.join(tmp, "cache"))
                load_seconds.append(time.perf_counter() - start)
            else:
                dataset = (tf.data.Dataset.from_tensor_slices((images, labels))
                           .shuffle(len(images), seed=SEED + run).batch(BATCH_SIZE)
                           .prefetch(tf.data.AUTOTUNE))
            accuracy = train(dataset, args.steps)
            seconds[kind].append(time.perf_counter() - start)
            cpu_seconds[kind] += time.process_time() - cpu_start
            print(f"  run {run + 1}: {kind:<6} {args.steps / seconds[kind][-1]:6.2f} steps/s "
                  f"({seconds[kind][-1]:.1f} s, final training accuracy {accuracy:.2f})",
                  flush=True)

        alone = {"folder": batches_per_second(zoo.data.load_classification(
            root, IMAGE_SIZE, batch_size=BATCH_SIZE, validation_split=0.0, seed=SEED)[0]),
            "memory": batches_per_second(tf.data.Dataset.from_tensor_slices((images, labels))
                                         .shuffle(len(images), seed=SEED).batch(BATCH_SIZE)
                                         .prefetch(tf.data.AUTOTUNE))}

    steps = args.steps * args.repeats
    folder_s, memory_s, load_s = sum(seconds["folder"]), sum(seconds["memory"]), sum(load_seconds)
    folder_rate, memory_rate = steps / folder_s, steps / memory_s
    print(f"folder     {folder_rate:6.2f} steps/s  ({folder_s:.1f} s for {steps} steps, "
          f"including {load_s:.1f} s to scan and decode the folder)")
    print(f"in memory  {memory_rate:6.2f} steps/s  ({memory_s:.1f} s for {steps} steps)")
    print(f"folder, loading excluded: {steps / (folder_s - load_s):.2f} steps/s")
    print(f"pipelines alone, no training: folder {alone['folder']:.0f} batches/s, "
          f"in memory {alone['memory']:.0f} batches/s")
    print(f"CPU seconds per step: folder {cpu_seconds['folder'] / steps:.3f}, in memory "
          f"{cpu_seconds['memory'] / steps:.3f} (in-memory / folder "
          f"{cpu_seconds['memory'] / cpu_seconds['folder']:.3f})")
    print(f"ratio of totals folder / in-memory: {folder_rate / memory_rate:.3f}")
    median_rate = {kind: statistics.median(args.steps / t for t in times)
                   for kind, times in seconds.items()}
    print(f"ratio folder / in-memory (median runs, {median_rate['folder']:.2f} / "
          f"{median_rate['memory']:.2f} steps/s): "
          f"{median_rate['folder'] / median_rate['memory']:.3f}  (goal >= 0.95)")


if __name__ == "__main__":
    main()
