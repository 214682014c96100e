"""The paired upper bound of an unpaired translation.

CycleGAN never sees a pair. Where the true mapping is known (the embedded
unpaired sets, `zoo.data.ground_truth`), the same generator trained on the
true pairs (A, truth(A)) with L1 alone, for the same epochs, batch size and
learning-rate schedule, shows what the architecture reaches when the answer
is given: the ceiling a CycleGAN score is read against.
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.gan.metrics import from_uint8
from zoo.gan.cyclegan.resnet import resnet_generator
from zoo.gan.run_setup import papers_adam


def train_paired_generator(config, images, truth, *, name: str = "paired_generator",
                           verbose: int = 0) -> keras.Model:
    """Train `resnet_generator` on (image, truth(image)) pairs with L1.

    Args:
        config: a `CycleGANConfig`: generator size, epochs, schedule, batch
            size and seed.
        images: a dataset of uint8 image batches (one domain's training set).
        truth: the true mapping, uint8 numpy batch -> uint8 batch.
        name: the generator's name.
        verbose: Keras fit's verbosity.

    Returns:
        The trained float generator ([-1, 1] in and out), built for
        `config.image_size`.
    """
    keras.utils.set_random_seed(config.seed)
    sources = np.concatenate(list(images.as_numpy_iterator()))
    targets = np.asarray(truth(sources), np.uint8)
    generator = resnet_generator(config.n_blocks, ngf=config.ngf,
                                 image_size=config.image_size, name=name)
    steps_per_epoch = -(-len(sources) // config.batch_size)
    generator.compile(optimizer=papers_adam(config, steps_per_epoch),
                      loss=keras.losses.MeanAbsoluteError(), jit_compile=config.jit_compile)
    generator.fit(np.asarray(from_uint8(sources)), np.asarray(from_uint8(targets)),
                  batch_size=config.batch_size, epochs=config.total_epochs, shuffle=True,
                  verbose=verbose)
    return generator
