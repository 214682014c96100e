"""What the classify recipe's options must be, checked before TensorFlow
loads, and the configuration they make."""

from __future__ import annotations

from zoo.arguments import check_backbones, check_classification_source, check_number, check_weights
from zoo.backbones import backbone_info


def check_classify_arguments(args) -> None:
    check_backbones("--backbone", args.backbone, args.image_size)
    check_classification_source("--data", args.data)
    check_weights("--weights", args.weights)
    check_number("--batch-size", args.batch_size, 1)
    check_number("--epochs", args.epochs, 0)
    check_number("--fine-tune-epochs", args.fine_tune_epochs, 0)
    check_number("--fine-tune-blocks", args.fine_tune_blocks, 0,
                 len(backbone_info(args.backbone).blocks))
    check_number("--learning-rate", args.learning_rate, 0, low_open=True)
    check_number("--dropout", args.dropout, 0, 1, high_open=True)
    check_number("--label-smoothing", args.label_smoothing, 0, 1, high_open=True)
    check_number("--augment", args.augment, 0, 1)


def classify_config(args, weights):
    """The TrainConfig the options ask for, with `weights` resolved.

    Without pretrained weights every block trains, for all the epochs; the
    noisy early validation loss may not stop it before half of them.
    """
    from zoo.classification.config import TrainConfig, train_from_scratch

    config = TrainConfig(
        backbone=args.backbone, image_size=args.image_size, weights=weights,
        batch_size=args.batch_size, epochs=args.epochs, learning_rate=args.learning_rate,
        fine_tune_blocks=args.fine_tune_blocks, fine_tune_epochs=args.fine_tune_epochs,
        head=args.head, dropout=args.dropout, label_smoothing=args.label_smoothing,
        class_weight=args.class_weight, augment=args.augment, strategy=args.strategy,
        jit_compile=args.jit_compile, mixed_precision=args.mixed_precision, seed=args.seed)
    total = args.epochs + args.fine_tune_epochs
    return config if weights else train_from_scratch(config, min_epochs=total // 2)


def say_from_scratch(error) -> None:
    """What `--weights auto` prints when ImageNet weights cannot be had."""
    print(f"\n[weights] ImageNet weights cannot be had here, so this run TRAINS FROM SCRATCH "
          f"(every block, BatchNorm included).\n[weights] {error}\n")
