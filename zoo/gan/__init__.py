"""Image-to-image GANs (Pix2Pix, CycleGAN): models, training and evaluation."""
