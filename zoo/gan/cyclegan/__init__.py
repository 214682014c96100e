"""CycleGAN (Zhu et al., 2017): unpaired image-to-image translation.

    resnet.py       resnet_generator: the ResNet generator; with_image_size
    image_pool.py   ImagePool: the discriminators' history of fakes, inside the train step
    model.py        CycleGAN: the model and its train and test steps
    training.py     CycleGANConfig and train_cyclegan: resumable training, epochs as
                    long as the larger domain
    upper_bound.py  train_paired_generator: the paired upper bound CycleGAN is scored against

The PatchGAN, losses, schedule, metrics and evaluation it uses are shared
with the other GANs and live one folder up, in zoo/gan/.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

# The files a CycleGAN run saves its two generators as, by direction (what
# `zoo translate --direction` picks from).
GENERATOR_FILES = {"AtoB": "generator_AtoB.keras", "BtoA": "generator_BtoA.keras"}

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.gan.cyclegan.model import CycleGAN  # noqa: F401
    from zoo.gan.cyclegan.resnet import resnet_generator, with_image_size  # noqa: F401
    from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan  # noqa: F401

_LAZY = {
    "CycleGAN": "zoo.gan.cyclegan.model",
    "CycleGANConfig": "zoo.gan.cyclegan.training",
    "train_cyclegan": "zoo.gan.cyclegan.training",
    "resnet_generator": "zoo.gan.cyclegan.resnet",
    "with_image_size": "zoo.gan.cyclegan.resnet",
}

__all__ = sorted([*_LAZY, "GENERATOR_FILES"])

__getattr__, __dir__ = lazy_attributes("zoo.gan.cyclegan", globals(), _LAZY)
