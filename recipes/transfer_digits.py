"""Title: Transfer learning, shown offline on handwritten digits.

Description: does a backbone pretrained on one task help another with few
labels? This recipe answers it without ImageNet or a network:

1. pretrain a backbone from scratch on the digits 0-4 and save its weights
   (a no-top weights file, the same kind `weights=PATH` takes);
2. train on the digits 5-9 with only 20 labelled images per class, twice on
   the same split: once from those weights (phase 1 head, phase 2
   fine-tuning of every block), once from scratch;
3. repeat step 2 on a few different draws of those 20 images (with 100
   training images one draw alone says little), print the test accuracies
   and their means, and log every run to MLflow.

Needs: zoo's dependencies (the digits ship inside scikit-learn).

    python recipes/transfer_digits.py [--backbone mobilenet_v3_small] [--per-class 20]
"""

from __future__ import annotations

import argparse
import dataclasses

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.classification.config import TrainConfig, train_from_scratch  # noqa: E402
from zoo.recipe_run import RecipeRun, add_run_arguments, run_recipe  # noqa: E402
from zoo.text import format_table  # noqa: E402

EXPERIMENT = "transfer_digits"
PRETRAIN_CLASSES = (0, 1, 2, 3, 4)
TARGET_CLASSES = (5, 6, 7, 8, 9)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="transfer_digits", description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="mobilenet_v3_small")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--per-class", type=int, default=20,
                        help="labelled training images per target class")
    parser.add_argument("--pretrain-epochs", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=30,
                        help="epochs on the target task, for both runs")
    parser.add_argument("--repeats", type=int, default=3,
                        help="draws of the labelled images; both runs use each draw")
    add_run_arguments(parser, saves="the pretrained backbone's weights and the runs' spools",
                      registers=None, resumable=False, distributed=False)
    return parser.parse_args(argv)


def subset(split: str, classes, size: int, per_class=None, seed=0):
    """Digits of `classes` from one split, relabelled 0..len(classes)-1."""
    from zoo.data.embedded import classification_arrays

    images, labels, _ = classification_arrays("digits", split, (size, size))
    rng = np.random.default_rng(seed)
    keep = []
    for new_label, digit in enumerate(classes):
        index = np.flatnonzero(labels == digit)
        if per_class is not None:
            index = rng.choice(index, per_class, replace=False)
        keep += [(i, new_label) for i in index]
    rng.shuffle(keep)
    index, new_labels = (np.array(v) for v in zip(*keep))
    return images[index], new_labels.astype("int32")


def as_dataset(arrays, batch_size=32):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size)


def tracked_training(run, name, config, train, val, test, class_names):
    """Train, evaluate on the test split, log to MLflow; return the accuracy.

    Metrics and files wait in a spool in the output folder while the tracking
    server is away (training does not wait for it); the run's end says how to
    send what is left.
    """
    from zoo.classification import run_record, train_classifier
    from zoo.classification.baselines import dataset_baselines
    from zoo.classification.evaluation import evaluate_classifier

    with run.tracked(name, tags={"backbone": config.backbone, "data_source": "digits"},
                     params={"train": config.to_dict(), "step": name, "classes": class_names}):
        result = train_classifier(config, train, val, len(class_names), verbose=0,
                                  callbacks=[run.epoch_callback()])
        evaluation = evaluate_classifier(result.model, test, class_names)
        baselines = dataset_baselines(train, {"test": test})["test"]
        run.log_metrics(run_record.headline_metrics(evaluation, "test", baselines))
        run.steps("learning curves", run_record.log_learning_curves, result)
        run.steps("test evaluation", run_record.log_evaluation, evaluation, "test", baselines,
                  with_metrics=False)
    print(f"  {name}: test accuracy {evaluation.accuracy:.3f} "
          f"({len(result.history['loss'])} epochs)")
    run.print_unsent(run.output)
    return result.model, evaluation.accuracy


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    run.open_output()  # one folder for the backbone's weights and every run's spool
    size, output = args.image_size, run.output
    output.mkdir(parents=True, exist_ok=True)
    base = TrainConfig(backbone=args.backbone, image_size=size, batch_size=32,
                       learning_rate=1e-3, patience=5, seed=args.seed)

    # 1. Pretrain on the digits 0-4, all of their training images.
    source_names = [str(d) for d in PRETRAIN_CLASSES]
    print(f"1. Pretraining {args.backbone} from scratch on digits 0-4 ...")
    pretrained, _ = tracked_training(
        run, "pretrain-0to4", train_from_scratch(base, args.pretrain_epochs),
        as_dataset(subset("train", PRETRAIN_CLASSES, size)),
        as_dataset(subset("val", PRETRAIN_CLASSES, size)),
        as_dataset(subset("test", PRETRAIN_CLASSES, size)), source_names)
    weights_path = output / f"{args.backbone}_digits0to4.weights.h5"
    zoo.get_backbone(pretrained).save_weights(weights_path)
    print(f"   saved the backbone's weights to {weights_path}")

    # 2. The target task: digits 5-9, few labels, the same draw for both runs.
    target_names = [str(d) for d in TARGET_CLASSES]
    val = as_dataset(subset("val", TARGET_CLASSES, size))
    test = as_dataset(subset("test", TARGET_CLASSES, size))
    # Both runs get every epoch (on 100 images one noisy epoch would stop
    # them early) and keep their best epoch by validation loss.
    target = dataclasses.replace(base, patience=0)
    blocks = len(zoo.backbone_info(args.backbone).blocks)
    transfer = dataclasses.replace(
        target, weights=str(weights_path), epochs=args.epochs // 3, fine_tune_blocks=blocks,
        fine_tune_epochs=args.epochs - args.epochs // 3, learning_rate=3e-3,
        fine_tune_learning_rate=1e-3)
    results = []
    for draw in range(args.repeats):
        print(f"2.{draw + 1} Digits 5-9, draw {draw + 1} of {args.per_class} labelled images "
              f"per class:")
        train = as_dataset(subset("train", TARGET_CLASSES, size, args.per_class,
                                  seed=args.seed + draw))
        _, transfer_accuracy = tracked_training(run, f"transfer-5to9-draw{draw + 1}", transfer,
                                                train, val, test, target_names)
        _, scratch_accuracy = tracked_training(run, f"scratch-5to9-draw{draw + 1}",
                                               train_from_scratch(target, args.epochs),
                                               train, val, test, target_names)
        results.append((transfer_accuracy, scratch_accuracy))

    transfer_mean, scratch_mean = (float(np.mean(column)) for column in zip(*results))
    print(f"\nTest accuracy on digits 5-9, {args.per_class} labels per class "
          f"({args.repeats} draws):")
    rows = [(draw, f"{t:.3f}", f"{s:.3f}") for draw, (t, s) in enumerate(results, start=1)]
    rows.append(("mean", f"{transfer_mean:.3f}", f"{scratch_mean:.3f}"))
    print(format_table(rows, ["draw", "from 0-4 backbone", "from scratch"], align="lrr",
                       indent="  "))
    print(f"  transfer - scratch: {transfer_mean - scratch_mean:+.3f}")
    print(f"Runs are in the MLflow experiment '{EXPERIMENT}': zoo ui")
    return transfer_mean, scratch_mean


if __name__ == "__main__":
    run_recipe(main, "transfer_digits")
