"""The learning-rate schedule of Pix2Pix and CycleGAN: constant for n epochs,
then a linear decay towards 0 over n more.

It is a Keras schedule of the optimizer's step count, so the position in it
is saved and restored with the optimizer: a resumed run continues at the
exact rate an uninterrupted one would have. The rate changes once per
epoch, as in the reference code: in 0-based epoch e it is
    rate * (1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1)).
"""

from __future__ import annotations

import keras


class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Args:
        rate: the initial learning rate (2e-4 in the papers).
        steps_per_epoch: optimizer steps in one epoch.
        constant_epochs: epochs at `rate`.
        decay_epochs: epochs over which it falls towards 0.
    """

    def __init__(self, rate: float, steps_per_epoch: int, constant_epochs: int,
                 decay_epochs: int):
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be at least 1. Received: {steps_per_epoch}")
        self.rate = float(rate)
        self.steps_per_epoch = int(steps_per_epoch)
        self.constant_epochs = int(constant_epochs)
        self.decay_epochs = int(decay_epochs)

    def __call__(self, step):
        epoch = keras.ops.floor_divide(keras.ops.cast(step, "int64"), self.steps_per_epoch)
        past = keras.ops.maximum(keras.ops.cast(epoch + 1 - self.constant_epochs, "float32"), 0.0)
        factor = 1.0 - past / float(self.decay_epochs + 1)
        return self.rate * keras.ops.maximum(factor, 0.0)

    def get_config(self) -> dict:
        return {"rate": self.rate, "steps_per_epoch": self.steps_per_epoch,
                "constant_epochs": self.constant_epochs, "decay_epochs": self.decay_epochs}
