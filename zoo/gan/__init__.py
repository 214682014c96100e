"""zoo's GANs, a folder per model:

    pix2pix/        Pix2Pix: the U-Net, the model, resumable training
    cyclegan/       CycleGAN: the ResNet generator, the image pool, the model,
                    resumable training, the paired upper bound

and what they share:

    layers.py       initialisers and batch/instance norm with the reference's settings
    padding.py      reflection_padding: built-in Keras layers only, so saved models load anywhere
    patchgan.py     patchgan_discriminator: the 70x70 PatchGAN
    losses.py       AdversarialLoss: vanilla or least-squares GAN loss
    schedule.py     ConstantThenLinearDecay: the papers' learning-rate schedule
    metrics.py      per-image L1, PSNR, SSIM, and the uint8 <-> [-1, 1] conversions
    distribution.py FID and KID with a pluggable feature extractor
    evaluation.py   paired_scores on held-out pairs, input_baseline, comparison_table
    realism.py      whether outputs look real, offline: a classifier two-sample
                    test and the distance between radial power spectra
    uint8.py        the check of the uint8 RGB batches the scores and pages take
    results_page.py sample_grid and the HTML results page
    run_record.py   what an image-translation run records in MLflow
    run_setup.py    what every GAN's training function does around the shared loop
    inference.py    translate (any size, tiles), uint8_model, with_image_statistics,
                    export_saved_model
    tiling.py       where tiles go and how their outputs blend (NumPy only)
    cli.py            the `zoo translate` command

Importing zoo.gan imports neither TensorFlow nor Keras (so `zoo --help`
stays quick); the names below load their module on first use.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.gan.cyclegan.model import CycleGAN  # noqa: F401
    from zoo.gan.cyclegan.resnet import resnet_generator, with_image_size  # noqa: F401
    from zoo.gan.cyclegan.training import train_cyclegan  # noqa: F401
    from zoo.gan.inference import (  # noqa: F401
        downsampling_factor,
        export_saved_model,
        translate,
        uint8_model,
        with_image_statistics,
    )
    from zoo.gan.patchgan import patchgan_discriminator  # noqa: F401
    from zoo.gan.pix2pix.model import Pix2Pix  # noqa: F401
    from zoo.gan.pix2pix.training import train_pix2pix  # noqa: F401
    from zoo.gan.pix2pix.unet import unet_depth, unet_generator  # noqa: F401

_LAZY = {
    "CycleGAN": "zoo.gan.cyclegan.model",
    "Pix2Pix": "zoo.gan.pix2pix.model",
    "patchgan_discriminator": "zoo.gan.patchgan",
    "resnet_generator": "zoo.gan.cyclegan.resnet",
    "with_image_size": "zoo.gan.cyclegan.resnet",
    "train_cyclegan": "zoo.gan.cyclegan.training",
    "train_pix2pix": "zoo.gan.pix2pix.training",
    "unet_depth": "zoo.gan.pix2pix.unet",
    "unet_generator": "zoo.gan.pix2pix.unet",
    "downsampling_factor": "zoo.gan.inference",
    "export_saved_model": "zoo.gan.inference",
    "translate": "zoo.gan.inference",
    "uint8_model": "zoo.gan.inference",
    "with_image_statistics": "zoo.gan.inference",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes("zoo.gan", globals(), _LAZY)
