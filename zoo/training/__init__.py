"""Transfer-learning training: two phases, feature cache, checkpoints and resume.

    config.py         TrainConfig: every knob and its default
    trainer.py        train_classifier(): phase 1 (head), phase 2 (fine-tuning)
    feature_cache.py  backbone features computed once, reused across epochs and runs
    heads.py          heads trained alone on cached features (head tuning)
    checkpoint.py     atomic per-epoch checkpoints for exact resume
"""

from zoo.classification.classifier import feature_extractor, head_model
from zoo.training.checkpoint import Checkpointer
from zoo.training.config import TrainConfig
from zoo.training.feature_cache import FeatureCache, compute_features, dataset_digest
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
    "TrainConfig",
    "TrainResult",
    "attach_head",
    "compute_features",
    "dataset_digest",
    "feature_extractor",
    "head_model",
    "make_strategy",
    "train_classifier",
    "train_head",
    "train_heads",
]
