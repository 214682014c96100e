"""Training: the shared resumable loop, and two-phase transfer learning on it.

    loop.py           TrainingLoop: any model's train_step, any strategy, early
                      stopping, best weights, precise BN, checkpoints
    checkpoint.py     verified per-epoch checkpoints of any set of objects
    config.py         TrainConfig: every knob and its default
    trainer.py        train_classifier(): phase 1 (head), phase 2 (fine-tuning)
    feature_cache.py  backbone features computed once, reused across epochs and runs
    heads.py          heads trained alone on cached features (head tuning)
"""

from zoo.classification.classifier import feature_extractor, head_model
from zoo.training.checkpoint import Checkpointer
from zoo.training.config import TrainConfig
from zoo.training.feature_cache import FeatureCache, compute_features, dataset_digest
from zoo.training.loop import (
    Monitor,
    TrainingLoop,
    is_chief,
    new_state,
    recompute_batchnorm_statistics,
)
from zoo.training.heads import HeadResult, attach_head, train_head, train_heads
from zoo.training.trainer import (
    TrainResult,
    make_strategy,
    train_classifier,
)

__all__ = [
    "Checkpointer",
    "FeatureCache",
    "HeadResult",
    "Monitor",
    "TrainConfig",
    "TrainResult",
    "TrainingLoop",
    "attach_head",
    "compute_features",
    "dataset_digest",
    "feature_extractor",
    "head_model",
    "is_chief",
    "make_strategy",
    "new_state",
    "recompute_batchnorm_statistics",
    "train_classifier",
    "train_head",
    "train_heads",
]
