"""`resume=True` with no checkpoint to resume from starts a fresh run. The
kill -9 resume in both phases is a check of the family contract
(tests/classification/test_contract.py)."""

import os
import sys

from zoo.classification import FeatureCache, TrainConfig, train_classifier

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = dict(backbone="mobilenet_v3_small", image_size=32, weights=None, epochs=3,
              batch_size=16, fine_tune_blocks=2, fine_tune_epochs=3, patience=10,
              learning_rate=1e-2)


def _data():
    sys.path.insert(0, HERE)
    from conftest import colour_dataset

    return colour_dataset(48, seed=0)[0], colour_dataset(24, seed=1)[0]


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    train, val = _data()
    config = TrainConfig(**{**CONFIG, "epochs": 1, "fine_tune_blocks": 0})
    result = train_classifier(config, train, val, 3, checkpoint_dir=tmp_path / "none",
                              resume=True, feature_cache=FeatureCache(tmp_path / "c"), verbose=0)
    assert result.resumed_from is None and len(result.history["loss"]) == 1
