"""What the Pix2Pix recipe's options must be, checked before TensorFlow loads,
and the configuration they make."""

from __future__ import annotations

from zoo.arguments import ArgumentError, check_number, check_source
from zoo.gan.recipe_arguments import check_gan_arguments, gan_config_fields
from zoo.gan.sizes import smallest_input


def check_pix2pix_arguments(args) -> None:
    check_source("--data", args.data, "pairs")
    check_number("--image-size", args.image_size, 32)
    if args.image_size & (args.image_size - 1):
        raise ArgumentError("--image-size", f"{args.image_size} is not a power of two; the "
                                            f"U-Net halves it down to 1x1. Use 64, 128 or 256.")
    check_gan_arguments(args)
    check_number("--n-layers-d", args.n_layers_d, 1)
    smallest = smallest_input(args.n_layers_d)
    if smallest > args.image_size:
        raise ArgumentError("--n-layers-d", f"{args.n_layers_d} blocks need images of at least "
                                            f"{smallest} px; this run's --image-size is "
                                            f"{args.image_size}. Use fewer blocks or larger "
                                            f"images.")


def pix2pix_config(args):
    """The Pix2PixConfig the options ask for."""
    from zoo.gan.pix2pix.training import Pix2PixConfig

    return Pix2PixConfig(**gan_config_fields(args), gan_loss=args.gan_loss, norm=args.norm,
                         n_layers_d=args.n_layers_d, test_mode=args.test_mode)
