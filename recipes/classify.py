"""Title: An image classifier by transfer learning, tracked in MLflow.

Description: trains a classifier on a pretrained Keras Application in two
phases (the head on cached backbone features, then the last blocks
fine-tuned), evaluates it, and records everything in one MLflow run:
parameters, per-epoch metrics, plots, the model with its signature.

Needs: zoo's dependencies. The default data (scikit-learn's handwritten
digits) ships inside scikit-learn, so the recipe runs offline; ImageNet
weights are used when they are cached or can be downloaded (`--weights auto`),
otherwise the recipe says so and trains zoo's SmallResNet from scratch, at
32 px, with augmentation (zoo/classification/arguments.py says why).

    python recipes/classify.py                       # digits, mobilenet_v3_small
    python recipes/classify.py --data photos/ --backbone resnet50 --image-size 224 \\
        --epochs 10 --fine-tune-blocks 2 --register flowers
    python recipes/classify.py ... --resume          # after a crash or Ctrl-C
    zoo run classify ...                             # the same
"""

from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

import numpy as np  # noqa: E402

from zoo.arguments import parse_checked  # noqa: E402
from zoo.classification.arguments import (  # noqa: E402
    FROM_SCRATCH_DEFAULTS,
    TRANSFER_DEFAULTS,
    check_classify_arguments,
    check_filled_arguments,
    classify_config,
    fill_defaults,
    say_from_scratch,
)
from zoo.recipe_run import RecipeRun, add_run_arguments, run_recipe  # noqa: E402
from zoo.text import slug  # noqa: E402

EXPERIMENT = "classify"
# Small defaults: the digits run finishes in a few minutes on a 2-core CPU.
# Plain values, not a TrainConfig, checked before TensorFlow loads (head,
# dropout and seed are TrainConfig's own defaults; the seed is zoo.seed's).
# Backbone, size, epochs and augmentation depend on whether ImageNet weights
# can be had: TRANSFER_DEFAULTS and FROM_SCRATCH_DEFAULTS.
DEFAULTS = SimpleNamespace(fine_tune_blocks=2, batch_size=32, learning_rate=1e-3,
                           head="linear", dropout=0.2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="classify", description="Train an image classifier by transfer learning.")
    add_run_arguments(parser, saves="checkpoints and the saved model")
    parser.add_argument("--backbone", help="a name from `zoo list` (default: "
                        f"{TRANSFER_DEFAULTS.backbone} with ImageNet weights, else "
                        f"{FROM_SCRATCH_DEFAULTS.backbone} from scratch)")
    parser.add_argument("--data", default="digits",
                        help="a folder of class folders, tfds:NAME, or digits/faces")
    parser.add_argument("--image-size", type=int,
                        help=f"default {TRANSFER_DEFAULTS.image_size}, or "
                             f"{FROM_SCRATCH_DEFAULTS.image_size} for "
                             f"{FROM_SCRATCH_DEFAULTS.backbone}")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    parser.add_argument("--epochs", type=int,
                        help=f"phase 1 (head) epochs at most (default {TRANSFER_DEFAULTS.epochs}"
                             f"; from scratch, phase 1's and 2's are one phase)")
    parser.add_argument("--fine-tune-blocks", type=int, default=DEFAULTS.fine_tune_blocks,
                        help="blocks unfrozen in phase 2; 0 skips it")
    parser.add_argument("--fine-tune-epochs", type=int,
                        help=f"default {TRANSFER_DEFAULTS.fine_tune_epochs}, or "
                             f"{FROM_SCRATCH_DEFAULTS.fine_tune_epochs} from scratch")
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS.learning_rate)
    parser.add_argument("--head", choices=["linear", "mlp"], default=DEFAULTS.head)
    parser.add_argument("--dropout", type=float, default=DEFAULTS.dropout)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--class-weight", choices=["balanced"], default=None)
    parser.add_argument("--augment", type=float,
                        help=f"strength 0..1 (default {TRANSFER_DEFAULTS.augment}, or "
                             f"{FROM_SCRATCH_DEFAULTS.augment} from scratch)")
    parser.add_argument("--weights", default="auto",
                        help="imagenet, none, auto (imagenet when available) or a file path")
    return parse_checked(parser, argv, check_classify_arguments)


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    from zoo import tracking
    from zoo.classification import TrainConfig, dataset_digest, train_classifier
    from zoo.classification.config import CLASSIFIER_CONFIG_FILE
    from zoo.classification.evaluation import evaluate_classifier
    from zoo.classification.baselines import dataset_baselines, format_baselines, verdict_line
    from zoo.classification import run_record
    from zoo.data import load_splits
    from zoo.files import atomic_file, atomic_write_text
    from zoo.weights import resolve_weights

    # 1. The weights: ImageNet's when they can be had. Without them, options
    #    left out take SmallResNet's defaults, from scratch at 32 px.
    weights = resolve_weights(args.weights, [args.backbone or TRANSFER_DEFAULTS.backbone],
                              say_from_scratch)
    defaults = fill_defaults(args, pretrained=weights is not None)
    check_filled_arguments(args)
    if defaults is FROM_SCRATCH_DEFAULTS:
        print(f"[weights] Defaults for training from scratch: {args.backbone} (zoo's backbone "
              f"for small images) at {args.image_size} px, augmentation {args.augment}.")

    # 2. Data: uint8 images and integer labels, read once. The trainer
    #    shuffles per epoch with the seed (an exact resume needs that).
    data = load_splits(args.data, args.image_size, args.batch_size, args.seed)
    classes = data.class_names
    digest = dataset_digest(data.train)
    print(f"Data '{args.data}': {digest.count} training images, {len(classes)} classes.")

    # 3. The configuration, or the one --resume finds beside its checkpoints.
    previous = run.open_output(f"{args.backbone}_{slug(args.data)}_{args.image_size}px")
    config = (TrainConfig.from_dict(previous["config"]) if previous
              else classify_config(args, weights))

    def train_model(**tracked):
        return train_classifier(config, data.train, data.val, len(classes),
                                strategy=run.strategy, checkpoint_dir=run.checkpoint_dir,
                                resume=run.resuming, train_digest=digest, **tracked)

    if not run.is_chief:
        train_model(verbose=0)
        return run.worker_finished()

    with run.tracked(f"{config.backbone}-{slug(args.data)}",
                     tags={"backbone": config.backbone, "data_source": args.data,
                           "data_digest": digest.digest},
                     params={"train": config.to_dict(), "data": args.data,
                             "weights_choice": args.weights, "classes": classes}):
        import mlflow

        tracking.log_dataset("train", args.data, digest.digest, num_examples=digest.count)
        mlflow.log_dict(classes, "class_names.json")
        mlflow.log_dict(config.classifier.to_dict(), CLASSIFIER_CONFIG_FILE)

        # 4. Train: phase 1 (head on cached features), phase 2 (fine-tuning).
        result = train_model(callbacks=[run.epoch_callback()], extra_state=run.extra_state)

        # 5. Evaluate the restored best weights, beside two baselines fitted on
        #    the training split: the majority class, and a logistic regression
        #    on 8x8 pixels. A model that loses to the majority class is flagged.
        evaluated = {"val": data.val, "test": data.test}
        evaluated = {name: split for name, split in evaluated.items() if split is not None}
        baselines = dataset_baselines(data.train, evaluated, seed=args.seed)
        scored = {name: evaluate_classifier(result.model, split, classes)
                  for name, split in evaluated.items()}
        split = "test" if data.test is not None else "val"
        print(scored["val"].format())
        print("\n" + format_baselines(scored[split].accuracy, baselines[split], classes,
                                      "validation" if split == "val" else split))

        # 6. The model: a .keras file that loads without zoo, written before
        #    anything is sent to MLflow, so that no tracking failure loses it.
        model_path = run.output / "model.keras"
        with atomic_file(model_path) as staging:
            result.model.save(staging)
        atomic_write_text(run.output / "class_names.json", json.dumps(classes))
        atomic_write_text(run.output / CLASSIFIER_CONFIG_FILE,
                          json.dumps(config.classifier.to_dict(), indent=2))

        # 7. Then the scores, the run's files and the MLflow model. When the
        #    tracking server is away they wait in the spool and are sent with it.
        for name, evaluation in scored.items():
            run.log_metrics(run_record.headline_metrics(evaluation, name, baselines[name]))
        run.steps("learning curves", run_record.log_learning_curves, result)
        for name, evaluation in scored.items():
            run.steps(f"{name} evaluation", run_record.log_evaluation, evaluation, name,
                      baselines[name], with_metrics=False)
        example = next(iter(data.val.take(1)))[0].numpy()[:2].astype(np.uint8)
        # Never a champion that does no better than always guessing one class.
        lines = [f"Saved model: `{model_path.resolve()}`"] + run.log_model(
            result.model, example, metric="val/accuracy",
            chance_level=baselines["val"]["majority_class_accuracy"])
        run.describe(run_record.run_description(
            f"**{args.data}**: {config.backbone} at {config.image_size} px", scored[split],
            split, baselines[split],
            facts=[f"{digest.count} training images, {len(classes)} classes",
                   f"weights: {run_record.weights_text(config.weights)}"],
            model_lines=lines))

    # 8. What a person wants to know at the end.
    print("\n" + verdict_line(scored[split], baselines[split], split))
    run.print_end({"Model": str(model_path)}, model_path)
    return result


if __name__ == "__main__":
    run_recipe(main, "classify")
