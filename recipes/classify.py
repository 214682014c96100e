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
from pathlib import Path
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
    exit_on_bad_arguments,
)
from zoo.text import slug  # noqa: E402

if TYPE_CHECKING:
    from zoo.classification import TrainConfig

EXPERIMENT = "classify"
# Small defaults: the digits run finishes in a few minutes on a 2-core CPU.
# Plain values, not a TrainConfig: zoo.training imports TensorFlow, and a
# mistyped argument should be reported before that (head, dropout and seed
# are TrainConfig's own defaults).
DEFAULTS = SimpleNamespace(backbone="mobilenet_v3_small", image_size=64, epochs=8,
                           fine_tune_blocks=2, fine_tune_epochs=4, batch_size=32,
                           learning_rate=1e-3, head="linear", dropout=0.2, seed=1337)


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
    parser.add_argument("--strategy", choices=["default", "mirrored", "multi_worker"],
                        default="default")
    parser.add_argument("--jit-compile", action="store_true")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--resume", action="store_true",
                        help="continue the last run of this configuration from its checkpoint")
    parser.add_argument("--register", metavar="NAME",
                        help="register the model as NAME (alias 'candidate'; 'champion' "
                             "when it beats the current champion)")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow store (default: $MLFLOW_TRACKING_URI, else "
                             "sqlite:///mlflow.db)")
    parser.add_argument("--output-dir", default=None,
                        help="checkpoints and the saved model (default: runs/classify/NAME)")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up logs (hidden by default)")
    args = parser.parse_args(argv)
    exit_on_bad_arguments(parser, check_arguments, args)
    return args


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
    from zoo import tracking

    # A tracking server that is down is reported now, before the data is read.
    tracking.require_reachable(tracking.resolve_tracking_uri(args.tracking_uri))
    from zoo.training import is_chief, make_strategy

    # Several machines: every worker runs this same command with its own
    # TF_CONFIG. TensorFlow wants that strategy before any other TF work.
    strategy = make_strategy(args.strategy) if args.strategy == "multi_worker" else None
    from zoo.data import load_classification, load_test
    from zoo.classification.evaluation import (
        beats_majority_class,
        dataset_baselines,
        evaluate_classifier,
        format_baselines,
    )
    from zoo.classification import TrainConfig, dataset_digest, train_classifier
    from zoo.training.checkpoint import Checkpointer
    from zoo.classification.reports import (
        epoch_metrics,
        headline_metrics,
        log_evaluation,
        log_learning_curves,
        run_description,
        set_run_description,
    )
    from zoo.files import atomic_file, atomic_write_text
    from zoo.tracking.offline import (
        BestEffort,
        model_lines,
        print_unsent,
        register_logged_model,
    )
    from zoo.tracking.spool import MetricSpool

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

    # 2. Where this configuration keeps its checkpoints: --resume finds them there.
    output = Path(args.output_dir or Path("runs") / EXPERIMENT /
                  f"{args.backbone}_{slug(args.data)}_{args.image_size}px")
    checkpointer = Checkpointer(output / "checkpoints")
    previous = checkpointer.load_state() if args.resume else None
    if args.resume and previous is None:
        print(f"[resume] No checkpoint in {checkpointer.directory}: starting a new run.")
    weights = (previous["config"]["weights"] if previous
               else resolve_weights(args.weights, args.backbone))
    config = (TrainConfig.from_dict(previous["config"]) if previous
              else make_config(args, weights))

    if not is_chief(strategy):
        # A worker other than the chief trains its share and keeps nothing:
        # the chief logs the run and writes the checkpoints and the model.
        result = train_classifier(config, train, val, len(class_names), strategy=strategy,
                                  checkpoint_dir=checkpointer.directory,
                                  resume=previous is not None,
                                  train_digest=digest, verbose=0)
        print("Worker finished; the chief holds the run and the model.")
        return result

    # 3. One MLflow run; a resumed run continues the same one. Metrics wait
    #    in a spool file beside the checkpoints until the tracking server has
    #    them, so training never waits on it; a resume first sends what an
    #    earlier attempt could not.
    tags = tracking.standard_tags(EXPERIMENT, backbone=config.backbone, data_source=args.data,
                                  data_digest=digest.digest)
    run_id = previous["extra"].get("run_id") if previous else None
    if run_id:
        send_earlier_metrics(output, run_id)
    with tracking.tracked_run(EXPERIMENT, run_name=f"{config.backbone}-{slug(args.data)}",
                              tracking_uri=args.tracking_uri, run_id=run_id, tags=tags) as run:
        import mlflow

        run_id = run.info.run_id
        tracking.log_config({"train": config.to_dict(), "data": args.data,
                             "weights_choice": args.weights, "classes": class_names})
        tracking.log_dataset("train", args.data, digest.digest, num_examples=digest.count)
        mlflow.log_dict(class_names, "class_names.json")
        spool = MetricSpool.for_run(output, run_id)
        # A resume from an older checkpoint (the latest was damaged) trains
        # epochs the run already holds again; MLflow cannot delete points,
        # so only the epochs after those are logged: one point per epoch.
        logged_through = last_logged_epoch(run_id) if previous else None
        try:
            # 4. Train: phase 1 (head on cached features), phase 2 (fine-tuning).
            result = train_classifier(
                config, train, val, len(class_names), checkpoint_dir=checkpointer.directory,
                resume=previous is not None,
                on_epoch_end=lambda epoch, logs, phase: None if (
                    logged_through is not None and epoch <= logged_through)
                else spool.log_metrics(epoch_metrics(logs, phase), step=epoch),
                extra_state={"run_id": run_id}, train_digest=digest, strategy=strategy)

            # 5. Evaluate the restored best weights, beside two baselines fitted on
            #    the training split: the majority class, and a logistic regression
            #    on 8x8 pixels. A model that loses to the majority class is flagged.
            evaluated = {"val": val} if test is None else {"val": val, "test": test}
            baselines = dataset_baselines(train, evaluated, seed=args.seed)
            report = evaluate_classifier(result.model, val, class_names)
            test_report = None
            if test is not None:
                test_report = evaluate_classifier(result.model, test, class_names)
            print(report.format())
            shown, split = (test_report, "test") if test_report else (report, "val")
            split_name = "test" if test_report else "validation"
            print("\n" + format_baselines(shown.accuracy, baselines[split], class_names,
                                          split_name))

            # 6. The model: a .keras file that loads without zoo, written before
            #    anything is sent to MLflow, so that no tracking failure loses it.
            model_path = output / "model.keras"
            with atomic_file(model_path) as staging:
                result.model.save(staging)
            atomic_write_text(output / "class_names.json", json.dumps(class_names))

            # Then the scores, which wait in the spool like the epochs' metrics,
            # and the run's files: when the tracking server is away they wait
            # in the spool too (zoo.tracking.offline), and are sent with it.
            reports = {"val": report}
            if test_report is not None:
                reports["test"] = test_report
            for name, scored in reports.items():
                spool.log_metrics(headline_metrics(scored, name, baselines[name]))
            steps = BestEffort(spool)
            steps("learning curves", log_learning_curves, result)
            for name, scored in reports.items():
                steps(f"{name} report", log_evaluation, scored, name, baselines[name],
                      with_metrics=False)
            example = next(iter(val.take(1)))[0].numpy()[:2].astype(np.uint8)
            info = steps("MLflow model", tracking.log_keras_model, result.model, example)
            model_uri, lines = model_lines(steps, info, run_id)
            lines.insert(0, f"Saved model: `{model_path.resolve()}`")
            if args.register:
                # Never a champion that does no better than always guessing one class.
                lines += register_logged_model(
                    steps, spool, info, args.register, metric="val/accuracy",
                    chance_level=baselines["val"]["majority_class_accuracy"])
            weights_text = "ImageNet" if config.weights == "imagenet" else (
                "none (trained from scratch)" if config.weights is None
                else f"`{config.weights}`")
            steps("run description", set_run_description, run_description(
                f"**{args.data}**: {config.backbone} at {config.image_size} px", shown, split,
                baselines[split],
                facts=[f"{digest.count} training images, {len(class_names)} classes",
                       f"weights: {weights_text}"],
                model_lines=lines))
        finally:
            unsent = spool.close()

    # 7. What a person wants to know at the end.
    uri = tracking.resolve_tracking_uri(args.tracking_uri)
    scores = baselines[split]
    flag = "" if beats_majority_class(shown.accuracy, scores) else "  <- NOT BETTER THAN CHANCE"
    print(f"\n{split_name.capitalize()} accuracy: {shown.accuracy:.4f} "
          f"({shown.num_examples} images, {len(class_names)} classes); majority class "
          f"{scores['majority_class_accuracy']:.4f}, logistic regression on pixels "
          f"{scores['logistic_accuracy']:.4f}{flag}")
    print(f"MLflow run: {run_id}  (experiment '{EXPERIMENT}', store {uri})")
    print(f"Model: {model_path}")
    print_unsent(steps, spool, unsent, model_path, model_uri, args.register)
    print(f"Open the MLflow UI: zoo ui --tracking-uri {uri}   (or: make ui)")
    return result


def last_logged_epoch(run_id: str) -> int | None:
    """The last epoch whose loss run `run_id` holds, None when it holds none."""
    import mlflow

    from zoo.tracking.names import EPOCH_PREFIX

    history = mlflow.MlflowClient().get_metric_history(run_id, f"{EPOCH_PREFIX}loss")
    return max((metric.step for metric in history), default=None)


def send_earlier_metrics(output: Path, run_id: str) -> None:
    """Send the metrics an earlier attempt of run `run_id` kept on disk, if any.

    When the server still cannot take them they stay in the file, and this
    attempt's spool sends them first, in order.
    """
    from zoo import tracking
    from zoo.tracking.spool import spool_path

    path = spool_path(output, run_id)
    if not path.exists():
        return
    try:
        count = tracking.flush_spool(path)
        if count:
            print(f"[tracking] Sent {count} records an earlier attempt of run {run_id} kept "
                  f"in {path}.")
    except zoo.ZooError as exc:
        print(f"[tracking] {exc}")


if __name__ == "__main__":
    try:
        main()
    except zoo.ZooError as error:  # bad input: say what and how to fix it, no traceback
        sys.exit(f"classify: error: {error}")
