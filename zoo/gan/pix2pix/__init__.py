"""Pix2Pix (Isola et al., 2017): paired image-to-image translation.

    unet.py      unet_generator: the U-Net generator
    model.py     Pix2Pix: the model and its train and test steps
    training.py  Pix2PixConfig and train_pix2pix: resumable training through zoo's loop

The PatchGAN, losses, schedule, metrics and evaluation it uses are shared
with the other GANs and live one folder up, in zoo/gan/.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.gan.pix2pix.model import Pix2Pix  # noqa: F401
    from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix  # noqa: F401
    from zoo.gan.pix2pix.unet import unet_generator  # noqa: F401

_LAZY = {
    "Pix2Pix": "zoo.gan.pix2pix.model",
    "Pix2PixConfig": "zoo.gan.pix2pix.training",
    "train_pix2pix": "zoo.gan.pix2pix.training",
    "unet_generator": "zoo.gan.pix2pix.unet",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes("zoo.gan.pix2pix", globals(), _LAZY)
