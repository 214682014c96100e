"""The adversarial losses of Pix2Pix and CycleGAN, on PatchGAN logits.

`vanilla` is the original GAN's cross-entropy, `lsgan` the least-squares
loss (Mao et al. 2017) that CycleGAN uses. Both are Keras loss objects, so
under a `tf.distribute` strategy each replica's loss is scaled by the
replica count, as `fit()` does.
"""

from __future__ import annotations

import keras

GAN_LOSSES = ("vanilla", "lsgan")


class AdversarialLoss:
    """The loss of patch logits against "real" (1) or "fake" (0) targets.

    Args:
        kind: `"vanilla"` (sigmoid cross-entropy) or `"lsgan"` (mean squared
            error of the raw outputs).
    """

    def __init__(self, kind: str = "vanilla"):
        if kind not in GAN_LOSSES:
            raise ValueError(f"gan_loss must be one of {', '.join(GAN_LOSSES)}. "
                             f"Received: gan_loss={kind!r}")
        self.kind = kind
        self._loss = (keras.losses.BinaryCrossentropy(from_logits=True) if kind == "vanilla"
                      else keras.losses.MeanSquaredError())

    def __call__(self, logits, real: bool):
        logits = keras.ops.cast(logits, "float32")
        target = keras.ops.ones_like(logits) if real else keras.ops.zeros_like(logits)
        return self._loss(target, logits)

    def discriminator(self, real_logits, fake_logits):
        """The discriminator's losses on real and on fake patches. Their sum is
        halved when trained on, which slows D down relative to G, as the
        papers do."""
        return self(real_logits, True), self(fake_logits, False)
