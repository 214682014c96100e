"""zoo's image-to-image GANs and the parts they share.

    layers.py       initialisers and batch/instance norm with the reference's settings
    unet.py         unet_generator: the Pix2Pix U-Net
    resnet.py       resnet_generator: the CycleGAN ResNet generator; with_image_size
    padding.py      reflection_padding: built-in Keras layers only, so saved models load anywhere
    patchgan.py     patchgan_discriminator: the 70x70 PatchGAN
    losses.py       AdversarialLoss: vanilla or least-squares GAN loss
    schedule.py     ConstantThenLinearDecay: the papers' learning-rate schedule
    image_pool.py   ImagePool: the discriminators' history of fakes, inside the train step
    metrics.py      per-image L1, PSNR, SSIM, and the uint8 <-> [-1, 1] conversions
    distribution.py FID and KID with a pluggable feature extractor
    evaluation.py   paired_scores on held-out pairs, input_baseline, comparison_table
    results_page.py sample_grid and the HTML results page
    reports.py      what an image-translation run logs to MLflow
    pix2pix.py      Pix2Pix: the model and its train and test steps
    training.py     train_pix2pix: resumable training through zoo's loop
    cyclegan.py     CycleGAN: the model and its train and test steps
    cyclegan_training.py  train_cyclegan: resumable training, epochs as long as the larger domain
    upper_bound.py  train_paired_generator: the paired upper bound CycleGAN is scored against
    run_setup.py    what both training functions do around the shared loop
    inference.py    translate (any size, tiles), uint8_model, with_image_statistics,
                    export_saved_model
    tiling.py       where tiles go and how their outputs blend (NumPy only)
    translate_cli.py  the `zoo translate` command

Importing zoo.gan imports neither TensorFlow nor Keras (so `zoo --help`
stays quick); the names below load their module on first use.
"""

from zoo._lazy import lazy_attributes

_LAZY = {
    "CycleGAN": "zoo.gan.cyclegan",
    "Pix2Pix": "zoo.gan.pix2pix",
    "patchgan_discriminator": "zoo.gan.patchgan",
    "resnet_generator": "zoo.gan.resnet",
    "with_image_size": "zoo.gan.resnet",
    "train_cyclegan": "zoo.gan.cyclegan_training",
    "train_pix2pix": "zoo.gan.training",
    "unet_depth": "zoo.gan.unet",
    "unet_generator": "zoo.gan.unet",
    "downsampling_factor": "zoo.gan.inference",
    "export_saved_model": "zoo.gan.inference",
    "translate": "zoo.gan.inference",
    "uint8_model": "zoo.gan.inference",
    "with_image_statistics": "zoo.gan.inference",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes("zoo.gan", globals(), _LAZY)
