"""Head tuning with the feature cache against the plain Keras way, side by side.

Ten head configurations (head type, width, dropout, learning rate) train for
five epochs each on a frozen backbone, on the same data:

- zoo: `zoo.training.compute_features` runs the backbone over the data once
  (into the feature cache), `train_heads` trains the ten heads on those
  features in one traced loop, and the best head is attached to a full
  classifier;
- plain: the Keras transfer-learning guide's way: a frozen
  `keras.applications` backbone inside the model, fed `preprocess_input`-ed
  images, so every epoch of every configuration runs the backbone again.

It prints both wall times, their ratio, and zoo's total cost in units of one
backbone pass over the data the search uses, training and validation sets
(measured in the same run, warm: after the backbone is built and traced).

    python benchmarks/head_tuning.py [--backbone mobilenet_v3_large] [--image-size 224]

Goals: a ratio of at least 10, and under 1.5 backbone passes.

The default is the backbone's own input size, where the backbone's work
dominates as it does in real use; here that run takes about 35 minutes,
nearly all of it the plain way's 50 backbone passes. `--image-size 96` takes
about 5: zoo's fixed costs (building and tracing the backbone, tracing the
heads' loop, building the final classifier, about 9 s together) then weigh
more against a 4 s pass (measured: 20.9x, 3.45 passes).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.classification import (  # noqa: E402
    FeatureCache,
    TrainConfig,
    attach_head,
    compute_features,
    train_heads,
)
from zoo.classification.classifier import feature_extractor  # noqa: E402
from zoo.preprocessing import reference_preprocess  # noqa: E402

EPOCHS = 5


def head_configurations():
    """Ten heads: the kind of grid a person sweeps by hand."""
    grid = itertools.product(["linear", "mlp"], [1e-3, 3e-3], [0.0, 0.3])
    configs = [dict(head=h, learning_rate=lr, dropout=d, hidden_units=128) for h, lr, d in grid]
    configs += [dict(head="mlp", learning_rate=1e-3, dropout=0.2, hidden_units=256),
                dict(head="mlp", learning_rate=3e-4, dropout=0.5, hidden_units=64)]
    return configs[:10]


def load_data(source, image_size, batch_size):
    from zoo.data import load_classification

    train, val, class_names = load_classification(source, image_size, batch_size)
    return train, val, len(class_names)


def backbone_pass_seconds(backbone, image_size, num_classes, datasets) -> float:
    """Time of one backbone pass over the data the search uses (training and
    validation sets), the fastest Keras way (`predict` over the datasets),
    after a first pass that builds and traces it."""
    model = zoo.create_classifier(backbone, num_classes, weights=None, input_shape=image_size)
    extractor = feature_extractor(model)
    for dataset in datasets:
        extractor.predict(dataset, verbose=0)
    start = time.perf_counter()
    for dataset in datasets:
        extractor.predict(dataset, verbose=0)
    return time.perf_counter() - start


def run_zoo(args, train, val, num_classes) -> float:
    """zoo's head-tuning path: features once, ten heads on them, the best one attached."""
    cache = FeatureCache(tempfile.mkdtemp(prefix="zoo-bench-cache-"))
    start = time.perf_counter()
    base = TrainConfig(backbone=args.backbone, image_size=args.image_size, weights=None,
                       epochs=EPOCHS, patience=0, batch_size=args.batch_size)
    features = compute_features(base, train, val, cache)
    features_done = time.perf_counter()
    configs = [dataclasses.replace(base, **head) for head in head_configurations()]
    results = [(min(result.history["val_loss"]), config, result.model)
               for config, result in zip(configs, train_heads(configs, features, num_classes))]
    heads_done = time.perf_counter()
    _, best_config, best_head = min(results, key=lambda r: r[0])
    classifier = zoo.create_classifier(
        args.backbone, num_classes, weights=None, input_shape=args.image_size,
        head=best_config.head, hidden_units=best_config.hidden_units,
        dropout=best_config.dropout)
    attach_head(best_head, classifier)
    elapsed = time.perf_counter() - start
    print(f"  zoo: features {features_done - start:.1f} s (cache {cache.misses} misses, "
          f"{cache.hits} hits), 10 heads {heads_done - features_done:.1f} s, final "
          f"classifier {elapsed - (heads_done - start):.1f} s; best head {best_config.head}, "
          f"lr {best_config.learning_rate}, dropout {best_config.dropout}")
    return elapsed


def run_plain(args, train, val, num_classes) -> float:
    spec = zoo.backbone_info(args.backbone)
    shape = (args.image_size, args.image_size, 3)

    def prepare(images, labels):
        return reference_preprocess(spec.family, tf.cast(images, tf.float32)), labels

    train_p = train.map(prepare).prefetch(tf.data.AUTOTUNE)
    val_p = val.map(prepare).prefetch(tf.data.AUTOTUNE)
    start = time.perf_counter()
    for head in head_configurations():
        base = spec.build(shape, weights=None, pooling="avg")
        base.trainable = False
        inputs = keras.Input(shape)
        x = base(inputs, training=False)
        if head["head"] == "mlp":
            x = keras.layers.Dense(head["hidden_units"], activation="relu")(x)
        x = keras.layers.Dropout(head["dropout"])(x)
        outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile(keras.optimizers.Adam(head["learning_rate"]),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(train_p, validation_data=val_p, epochs=EPOCHS, verbose=0)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="mobilenet_v3_large")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    train, val, num_classes = load_data(args.data, args.image_size, args.batch_size)
    one_pass = backbone_pass_seconds(args.backbone, args.image_size, num_classes, (train, val))
    print(f"{args.backbone} at {args.image_size}px on '{args.data}': one backbone pass over "
          f"the training and validation data takes {one_pass:.1f} s")
    zoo_s = run_zoo(args, train, val, num_classes)
    print(f"  zoo (feature cache): {zoo_s:.1f} s for 10 heads x {EPOCHS} epochs")
    plain_s = run_plain(args, train, val, num_classes)
    print(f"  plain (backbone in the loop): {plain_s:.1f} s")
    print(f"ratio plain/zoo: {plain_s / zoo_s:.1f}x  (goal >= 10)")
    print(f"zoo cost: {zoo_s / one_pass:.2f} backbone passes  (goal < 1.5)")


if __name__ == "__main__":
    main()
