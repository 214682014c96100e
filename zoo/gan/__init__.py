"""zoo's image-to-image GANs and the parts they share.

    layers.py       initialisers and batch/instance norm with the reference's settings
    unet.py         unet_generator: the Pix2Pix U-Net
    patchgan.py     patchgan_discriminator: the 70x70 PatchGAN
    losses.py       AdversarialLoss: vanilla or least-squares GAN loss
    schedule.py     ConstantThenLinearDecay: the papers' learning-rate schedule
    metrics.py      per-image L1, PSNR, SSIM, and the uint8 <-> [-1, 1] conversions
    distribution.py FID and KID with a pluggable feature extractor
    evaluation.py   paired_scores on held-out pairs, input_baseline, comparison_table
    results_page.py sample_grid and the HTML results page
    pix2pix.py      Pix2Pix: the model and its train and test steps
    training.py     train_pix2pix: resumable training through zoo's loop
    padding.py      reflection_padding: built-in Keras layers only, so saved models load anywhere
    resnet.py       resnet_generator: the CycleGAN ResNet generator
    image_pool.py   ImagePool: the discriminators' history of fakes, inside the train step
    cyclegan.py     CycleGAN: the model and its train and test steps
    cyclegan_training.py  train_cyclegan: resumable training, epochs as long as the larger domain
"""

from zoo.gan.cyclegan import CycleGAN
from zoo.gan.patchgan import patchgan_discriminator
from zoo.gan.pix2pix import Pix2Pix
from zoo.gan.resnet import resnet_generator
from zoo.gan.unet import unet_depth, unet_generator

__all__ = ["CycleGAN", "Pix2Pix", "patchgan_discriminator", "resnet_generator", "unet_depth",
           "unet_generator"]
