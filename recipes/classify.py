"""Title: An image classifier by transfer learning, tracked in MLflow.

Description: trains a classifier on a pretrained Keras Application in two
phases (the head on cached backbone features, then the last blocks
fine-tuned), evaluates it, and records everything in one MLflow run:
parameters, per-epoch metrics, plots, the model with its signature.

Needs: zoo's dependencies. The default data (scikit-learn's handwritten
digits) ships inside scikit-learn, so the recipe runs offline; ImageNet
weights are used when they are cached or can be downloaded (`--weights auto`),
otherwise the recipe says so and trains from scratch.

    python recipes/classify.py                       # digits, mobilenet_v3_small
    python recipes/classify.py --data photos/ --backbone resnet50 --image-size 224 \\
        --epochs 10 --fine-tune-blocks 2 --register flowers
    python recipes/classify.py ... --resume          # after a crash or Ctrl-C
    zoo run classify ...                             # the same
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.arguments import (  # noqa: E402
    check_backbones,
    check_classification_source,
    check_number,
    check_weights,
    parse_checked,
)
from zoo.recipe_run import RecipeRun, add_run_arguments  # noqa: E402
from zoo.text import slug  # noqa: E402

if TYPE_CHECKING:
    from zoo.classification import TrainConfig

EXPERIMENT = "classify"
# Small defaults: the digits run finishes in a few minutes on a 2-core CPU.
# Plain values, not a TrainConfig: zoo.training imports TensorFlow, and a
# mistyped argument should be reported before that (head, dropout and seed
# are TrainConfig's own defaults; the seed is zoo.seed's).
DEFAULTS = SimpleNamespace(backbone="mobilenet_v3_small", image_size=64, epochs=8,
                           fine_tune_blocks=2, fine_tune_epochs=4, batch_size=32,
                           learning_rate=1e-3, head="linear", dropout=0.2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="classify", description="Train an image classifier by transfer learning.")
    parser.add_argument("--backbone", default=DEFAULTS.backbone, help="a name from `zoo list`")
    parser.add_argument("--data", default="digits",
                        help="a folder of class folders, tfds:NAME, or digits/faces")
    parser.add_argument("--image-size", type=int, default=DEFAULTS.image_size)
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs,
                        help="phase 1 (head) epochs at most")
    parser.add_argument("--fine-tune-blocks", type=int, default=DEFAULTS.fine_tune_blocks,
                        help="blocks unfrozen in phase 2; 0 skips it")
    parser.add_argument("--fine-tune-epochs", type=int, default=DEFAULTS.fine_tune_epochs)
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS.learning_rate)
    parser.add_argument("--head", choices=["linear", "mlp"], default=DEFAULTS.head)
    parser.add_argument("--dropout", type=float, default=DEFAULTS.dropout)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--class-weight", choices=["balanced"], default=None)
    parser.add_argument("--augment", type=float, default=0.0, help="strength 0..1")
    parser.add_argument("--weights", default="auto",
                        help="imagenet, none, auto (imagenet when available) or a file path")
    add_run_arguments(parser, saves="checkpoints and the saved model",
                      registers="register the model as NAME (alias 'candidate'; 'champion' "
                                "when it beats the current champion)")
    return parse_checked(parser, argv, check_arguments)


def check_arguments(args) -> None:
    """What can be checked before the data is read and TensorFlow is loaded."""
    check_backbones("--backbone", args.backbone, args.image_size)
    check_classification_source("--data", args.data)
    check_weights("--weights", args.weights)
    check_number("--batch-size", args.batch_size, 1)
    check_number("--epochs", args.epochs, 0)
    check_number("--fine-tune-epochs", args.fine_tune_epochs, 0)
    check_number("--fine-tune-blocks", args.fine_tune_blocks, 0,
                 len(zoo.backbone_info(args.backbone).blocks))
    check_number("--learning-rate", args.learning_rate, 0, low_open=True)
    check_number("--dropout", args.dropout, 0, 1, high_open=True)
    check_number("--label-smoothing", args.label_smoothing, 0, 1, high_open=True)
    check_number("--augment", args.augment, 0, 1)


def resolve_weights(choice: str, backbone: str):
    """`auto`: ImageNet when the weights can be had, else say so and use none."""
    if choice == "none":
        return None
    if choice not in ("auto", "imagenet"):
        return choice  # a file path; create_classifier checks it
    try:
        zoo.fetch_imagenet_weights(backbone)
        return "imagenet"
    except zoo.WeightsUnavailableError as exc:
        if choice == "imagenet":
            raise
        print(f"\n[weights] ImageNet weights for {backbone} cannot be had here, so this run "
              f"TRAINS FROM SCRATCH (every block, BatchNorm included).\n[weights] {exc}\n")
        return None


def make_config(args, weights) -> TrainConfig:
    from zoo.classification import TrainConfig

    config = TrainConfig(
        backbone=args.backbone, image_size=args.image_size, weights=weights,
        batch_size=args.batch_size, epochs=args.epochs, learning_rate=args.learning_rate,
        fine_tune_blocks=args.fine_tune_blocks, fine_tune_epochs=args.fine_tune_epochs,
        head=args.head, dropout=args.dropout, label_smoothing=args.label_smoothing,
        class_weight=args.class_weight, augment=args.augment, strategy=args.strategy,
        jit_compile=args.jit_compile, seed=args.seed)
    if weights is None:
        # From scratch, frozen random features teach nothing: train every
        # block, BatchNorm too, at the full learning rate, for all epochs.
        # Its validation loss is noisy early on, so early stopping waits for
        # half the epochs before it may end the run.
        blocks = len(zoo.backbone_info(args.backbone).blocks)
        total = args.epochs + args.fine_tune_epochs
        config = dataclasses.replace(
            config, epochs=0, fine_tune_blocks=blocks, train_batchnorm=True,
            fine_tune_epochs=total, min_epochs=total // 2,
            fine_tune_learning_rate=args.learning_rate, warmup_epochs=0.0)
    return config


def main(argv=None):
    args = parse_args(argv)
    run = RecipeRun(args, EXPERIMENT)
    from zoo import tracking
    from zoo.classification import TrainConfig, dataset_digest, train_classifier
    from zoo.classification.evaluation import (
        beats_majority_class,
        dataset_baselines,
        evaluate_classifier,
        format_baselines,
    )
    from zoo.classification.reports import (
        headline_metrics,
        log_evaluation,
        log_learning_curves,
        run_description,
        set_run_description,
    )
    from zoo.data import load_classification, load_test
    from zoo.files import atomic_file, atomic_write_text

    # 1. Data: uint8 images and integer labels. The trainer shuffles per epoch
    #    with the seed, so the loader does not (an exact resume needs that).
    train, val, class_names = load_classification(
        args.data, args.image_size, args.batch_size, seed=args.seed, shuffle=False)
    if val is None:
        sys.exit("classify needs validation data: use a validation_split above 0.")
    try:
        test, _ = load_test(args.data, args.image_size, args.batch_size)
    except zoo.ZooError:
        test = None  # the source has no test split; report validation only
    digest = dataset_digest(train)
    print(f"Data '{args.data}': {digest.count} training images, {len(class_names)} classes.")

    # 2. The configuration, or the one --resume finds beside its checkpoints.
    previous = run.open_output(f"{args.backbone}_{slug(args.data)}_{args.image_size}px")
    weights = (previous["config"]["weights"] if previous
               else resolve_weights(args.weights, args.backbone))
    config = (TrainConfig.from_dict(previous["config"]) if previous
              else make_config(args, weights))

    def train_model(**tracked):
        return train_classifier(config, train, val, len(class_names), strategy=run.strategy,
                                checkpoint_dir=run.checkpoint_dir, resume=run.resuming,
                                train_digest=digest, **tracked)

    if not run.is_chief:
        train_model(verbose=0)
        return run.worker_finished()

    with run.tracked(f"{config.backbone}-{slug(args.data)}",
                     tags={"backbone": config.backbone, "data_source": args.data,
                           "data_digest": digest.digest},
                     params={"train": config.to_dict(), "data": args.data,
                             "weights_choice": args.weights, "classes": class_names}):
        import mlflow

        tracking.log_dataset("train", args.data, digest.digest, num_examples=digest.count)
        mlflow.log_dict(class_names, "class_names.json")

        # 3. Train: phase 1 (head on cached features), phase 2 (fine-tuning).
        result = train_model(on_epoch_end=run.log_epoch, extra_state=run.extra_state)

        # 4. Evaluate the restored best weights, beside two baselines fitted on
        #    the training split: the majority class, and a logistic regression
        #    on 8x8 pixels. A model that loses to the majority class is flagged.
        evaluated = {"val": val} if test is None else {"val": val, "test": test}
        baselines = dataset_baselines(train, evaluated, seed=args.seed)
        reports = {name: evaluate_classifier(result.model, split, class_names)
                   for name, split in evaluated.items()}
        print(reports["val"].format())
        split = "test" if test is not None else "val"
        split_name = "test" if test is not None else "validation"
        shown = reports[split]
        print("\n" + format_baselines(shown.accuracy, baselines[split], class_names,
                                      split_name))

        # 5. The model: a .keras file that loads without zoo, written before
        #    anything is sent to MLflow, so that no tracking failure loses it.
        model_path = run.output / "model.keras"
        with atomic_file(model_path) as staging:
            result.model.save(staging)
        atomic_write_text(run.output / "class_names.json", json.dumps(class_names))

        # 6. Then the scores, the run's files and the MLflow model. When the
        #    tracking server is away they wait in the spool and are sent with it.
        for name, scored in reports.items():
            run.log_metrics(headline_metrics(scored, name, baselines[name]))
        run.steps("learning curves", log_learning_curves, result)
        for name, scored in reports.items():
            run.steps(f"{name} report", log_evaluation, scored, name, baselines[name],
                      with_metrics=False)
        example = next(iter(val.take(1)))[0].numpy()[:2].astype(np.uint8)
        # Never a champion that does no better than always guessing one class.
        lines = [f"Saved model: `{model_path.resolve()}`"] + run.log_model(
            result.model, example, metric="val/accuracy",
            chance_level=baselines["val"]["majority_class_accuracy"])
        weights_text = "ImageNet" if config.weights == "imagenet" else (
            "none (trained from scratch)" if config.weights is None
            else f"`{config.weights}`")
        run.steps("run description", set_run_description, run_description(
            f"**{args.data}**: {config.backbone} at {config.image_size} px", shown, split,
            baselines[split],
            facts=[f"{digest.count} training images, {len(class_names)} classes",
                   f"weights: {weights_text}"],
            model_lines=lines))

    # 7. What a person wants to know at the end.
    scores = baselines[split]
    flag = "" if beats_majority_class(shown.accuracy, scores) else "  <- NOT BETTER THAN CHANCE"
    print(f"\n{split_name.capitalize()} accuracy: {shown.accuracy:.4f} "
          f"({shown.num_examples} images, {len(class_names)} classes); majority class "
          f"{scores['majority_class_accuracy']:.4f}, logistic regression on pixels "
          f"{scores['logistic_accuracy']:.4f}{flag}")
    run.print_end({"Model": str(model_path)}, model_path)
    return result


if __name__ == "__main__":
    try:
        main()
    except zoo.ZooError as error:  # bad input: say what and how to fix it, no traceback
        sys.exit(f"classify: error: {error}")
