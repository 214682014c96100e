"""What the classify recipe's options must be, checked before TensorFlow
loads, and the configuration they make.

Options left out take one of two sets of defaults. With ImageNet weights,
transfer learning on MobileNetV3-small at 64 px. Without them, and without a
`--backbone`, zoo's SmallResNet from scratch at 32 px, with augmentation and
up to 60 epochs: on small folders the upsampled MobileNetV3 lost to a
logistic regression on pixels (0.815 against 0.900), and SmallResNet beats it
(the README's table).
"""

from __future__ import annotations

from types import SimpleNamespace

from zoo.arguments import check_backbones, check_classification_source, check_number, check_weights
from zoo.backbones import backbone_info
from zoo.errors import ArgumentError

TRANSFER_DEFAULTS = SimpleNamespace(backbone="mobilenet_v3_small", image_size=64, epochs=8,
                                    fine_tune_epochs=4, augment=0.0)
# Epochs are phase 1's and phase 2's; from scratch they are one phase of 60,
# which early stopping may end after 30.
FROM_SCRATCH_DEFAULTS = SimpleNamespace(backbone="small_resnet", image_size=32, epochs=30,
                                        fine_tune_epochs=30, augment=0.5)
DEFAULTED = tuple(vars(TRANSFER_DEFAULTS))


def fill_defaults(args, pretrained: bool) -> SimpleNamespace:
    """Set the options left out (None) from the defaults that apply: transfer
    learning when `pretrained`, or when a `--backbone` was chosen; else
    SmallResNet from scratch. Returns the defaults used."""
    scratch = not pretrained and args.backbone is None
    defaults = FROM_SCRATCH_DEFAULTS if scratch else TRANSFER_DEFAULTS
    for name in DEFAULTED:
        if getattr(args, name) is None:
            setattr(args, name, getattr(defaults, name))
    return defaults


def check_classify_arguments(args) -> None:
    """Check the options before TensorFlow loads. Options left out are checked
    as the defaults they may become; which set applies is known only once the
    weights are resolved, so the options pass here when they suit either,
    and `check_filled_arguments` checks them again once they are filled."""
    sets = (TRANSFER_DEFAULTS, FROM_SCRATCH_DEFAULTS) if args.backbone is None else (
        TRANSFER_DEFAULTS,)
    errors = []
    for defaults in sets:
        try:
            check_filled_arguments(SimpleNamespace(**{**vars(args), **{
                name: getattr(defaults, name) for name in DEFAULTED
                if getattr(args, name) is None}}))
        except ArgumentError as error:
            errors.append(error)
    if len(errors) == len(sets):
        raise errors[0]


def check_filled_arguments(args) -> None:
    """Check options that all have values (after `fill_defaults`)."""
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
