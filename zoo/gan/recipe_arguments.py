"""The options every GAN recipe shares, checked before TensorFlow loads.

    DEFAULTS = SimpleNamespace(data="edges2photos", image_size=64, epochs=2,
                               decay_epochs=1, batch_size=1, ngf=64)
    parser = gan_parser("pix2pix", "Train Pix2Pix...", DEFAULTS,
                        data_help="...", size_help="...")
    check_gan_arguments(args)       # from the recipe's own check_arguments
    Config(**gan_config_fields(args), ...the recipe's own fields)

The data, image size, schedule, batch, width, FID and precision options are
the same for every GAN; a recipe adds its model's own options.
"""

from __future__ import annotations

import argparse

from zoo.arguments import ArgumentError, check_number
from zoo.gan.distribution import EXTRACTOR_CHOICES


def gan_parser(prog: str, description: str, defaults, *, data_help: str, size_help: str,
               epoch_unit: str = "") -> argparse.ArgumentParser:
    """A GAN recipe's parser with the shared options; the recipe adds its model's.

    Args:
        prog, description: the recipe's name and what it does.
        defaults: the recipe's defaults: data, image_size, epochs,
            decay_epochs, batch_size and ngf.
        data_help, size_help: what `--data` and `--image-size` take.
        epoch_unit: what one epoch covers, for the help (e.g. "the larger
            domain once").
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--data", default=defaults.data, help=data_help)
    parser.add_argument("--image-size", type=int, default=defaults.image_size, help=size_help)
    unit = f" (an epoch covers {epoch_unit})" if epoch_unit else ""
    parser.add_argument("--epochs", type=int, default=defaults.epochs,
                        help=f"epochs at the full learning rate{unit}")
    parser.add_argument("--decay-epochs", type=int, default=defaults.decay_epochs,
                        help="epochs of linear decay to 0 after them")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--ngf", type=int, default=defaults.ngf,
                        help="filters of the first block of every network (64 in the paper; "
                             "smaller trains faster and worse)")
    parser.add_argument("--fid", choices=EXTRACTOR_CHOICES, default="auto",
                        help="FID/KID on InceptionV3 features: auto (when its ImageNet "
                             "weights can be had), inception, or none")
    return parser


def check_gan_arguments(args) -> None:
    check_number("--epochs", args.epochs, 0)
    check_number("--decay-epochs", args.decay_epochs, 0)
    if args.epochs + args.decay_epochs < 1:
        raise ArgumentError("--epochs", "with --decay-epochs 0, train at least 1 epoch.")
    check_number("--batch-size", args.batch_size, 1)
    check_number("--ngf", args.ngf, 1)


def gan_config_fields(args) -> dict:
    """The config fields the shared options (and the run options) set; the
    discriminators are as wide as the generators, as in the papers' runs."""
    return dict(image_size=args.image_size, epochs=args.epochs,
                decay_epochs=args.decay_epochs, batch_size=args.batch_size, ngf=args.ngf,
                ndf=args.ngf, seed=args.seed, jit_compile=args.jit_compile,
                mixed_precision=args.mixed_precision, strategy=args.strategy)
