"""Training: the shared core that every model family trains on. It knows no family.

    loop.py           TrainingLoop: any model's train_step, any strategy, early
                      stopping, best weights, precise BN, checkpoints
    checkpoint.py     verified per-epoch checkpoints of any set of objects
    distribute.py     the tf.distribute strategy and the dtype policy to build under

A family's own training lives with the family: two-phase transfer learning in
zoo/classification/trainer.py, the GANs' in zoo/gan/.
"""

from zoo.training.checkpoint import Checkpointer
from zoo.training.distribute import dtype_policy, make_strategy
from zoo.training.loop import (
    Monitor,
    TrainingLoop,
    is_chief,
    new_state,
    recompute_batchnorm_statistics,
)

__all__ = [
    "Checkpointer",
    "Monitor",
    "TrainingLoop",
    "dtype_policy",
    "is_chief",
    "make_strategy",
    "new_state",
    "recompute_batchnorm_statistics",
]
