"""What the CycleGAN recipe's options must be, checked before TensorFlow loads,
and the configuration they make."""

from __future__ import annotations

from zoo.arguments import ArgumentError, check_number, check_source
from zoo.gan.recipe_arguments import check_gan_arguments, gan_config_fields

# --generator: residual blocks of the generators.
GENERATORS = {"resnet9": 9, "resnet6": 6}


def check_cyclegan_arguments(args) -> None:
    check_source("--data", args.data, "unpaired")
    check_number("--image-size", args.image_size, 24)
    if args.image_size % 4:
        raise ArgumentError("--image-size", f"{args.image_size} is not a multiple of 4; the "
                                            f"generators halve it twice. Use 64, 128 or 256.")
    check_gan_arguments(args)
    check_number("--lambda-identity", args.lambda_identity, 0)


def cyclegan_config(args):
    """The CycleGANConfig the options ask for."""
    from zoo.gan.cyclegan.training import CycleGANConfig

    return CycleGANConfig(**gan_config_fields(args), n_blocks=GENERATORS[args.generator],
                          lambda_identity=args.lambda_identity)
