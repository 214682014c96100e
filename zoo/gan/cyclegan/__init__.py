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

from zoo._lazy import lazy_attributes

_LAZY = {
    "CycleGAN": "zoo.gan.cyclegan.model",
    "CycleGANConfig": "zoo.gan.cyclegan.training",
    "train_cyclegan": "zoo.gan.cyclegan.training",
    "resnet_generator": "zoo.gan.cyclegan.resnet",
    "with_image_size": "zoo.gan.cyclegan.resnet",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes("zoo.gan.cyclegan", globals(), _LAZY)
