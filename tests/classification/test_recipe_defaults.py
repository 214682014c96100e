"""The classify recipe's options left out take transfer learning's defaults
when ImageNet weights can be had (or a backbone is named), else SmallResNet's
from scratch; both are checked before TensorFlow loads and again once filled."""

from types import SimpleNamespace

import pytest

from zoo.classification.arguments import (
    FROM_SCRATCH_DEFAULTS,
    TRANSFER_DEFAULTS,
    check_classify_arguments,
    check_filled_arguments,
    fill_defaults,
)
from zoo.errors import ArgumentError


def options(**given):
    values = dict(backbone=None, image_size=None, epochs=None, fine_tune_epochs=None,
                  augment=None, data="digits", weights="auto", batch_size=32,
                  fine_tune_blocks=2, learning_rate=1e-3, dropout=0.2, label_smoothing=0.0)
    return SimpleNamespace(**{**values, **given})


def test_with_weights_the_transfer_defaults_fill_what_was_left_out():
    args = options(epochs=3)
    assert fill_defaults(args, pretrained=True) is TRANSFER_DEFAULTS
    assert (args.backbone, args.image_size, args.epochs, args.augment) == (
        "mobilenet_v3_small", 64, 3, 0.0)


def test_without_weights_and_without_a_backbone_small_resnet_trains_from_scratch():
    args = options(augment=0.2)
    assert fill_defaults(args, pretrained=False) is FROM_SCRATCH_DEFAULTS
    assert (args.backbone, args.image_size, args.epochs + args.fine_tune_epochs,
            args.augment) == ("small_resnet", 32, 60, 0.2)


def test_a_named_backbone_keeps_the_transfer_defaults_from_scratch_too():
    args = options(backbone="resnet50")
    assert fill_defaults(args, pretrained=False) is TRANSFER_DEFAULTS
    assert (args.backbone, args.image_size) == ("resnet50", 64)


def test_an_option_that_suits_one_default_backbone_waits_for_the_weights():
    check_classify_arguments(options(image_size=16))  # small_resnet takes 16 px
    with pytest.raises(ArgumentError, match="--image-size"):
        check_classify_arguments(options(image_size=4))  # no default backbone does
    with pytest.raises(ArgumentError, match="--image-size"):
        check_classify_arguments(options(image_size=16, backbone="mobilenet_v3_small"))
    args = options(image_size=16)
    fill_defaults(args, pretrained=True)  # the weights were found: MobileNetV3 then
    with pytest.raises(ArgumentError, match="minimum input size of mobilenet_v3_small"):
        check_filled_arguments(args)
