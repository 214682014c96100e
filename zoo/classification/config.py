"""The configuration of one classifier run, in two parts, each knob with its default and why.

    ClassifierConfig  what create_classifier builds (build_classifier in
                      classifier.py takes one): the model's part, which
                      travels with the saved model (`classifier_config.json`
                      beside it), as a keras-hub model's get_config does
    FitConfig         how it trains: epochs, rates, phases, augmentation,
                      stopping, precision and the strategy
    TrainConfig       both, flat (`TrainConfig(backbone=..., epochs=...)`): what
                      recipes fill from their command line; `.classifier` and
                      `.fit` give the parts
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from zoo.precision import check_mixed_precision
from zoo.seed import DEFAULT_SEED

# The heads a classifier can have (ClassifierConfig.head).
HEADS = ("linear", "mlp")
STRATEGIES = ("default", "mirrored", "multi_worker")
CLASSIFIER_CONFIG_FILE = "classifier_config.json"


class _Dict:
    """to_dict/from_dict for the config dataclasses; from_dict ignores keys
    it does not know, so a config saved by another version still loads."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass
class ClassifierConfig(_Dict):
    """What `create_classifier` builds.

    Args:
        backbone: a registered backbone name (`zoo list`).
        image_size: input side in pixels; at least the backbone's minimum.
        weights: `"imagenet"`, `None`, or a path to a weights file.
        head: `"linear"` or `"mlp"`; `hidden_units` sizes the mlp's layer.
        hidden_units: width of the mlp head's hidden layer.
        dropout: dropout before the output layer.
    """

    backbone: str = "mobilenet_v3_small"
    image_size: int = 96
    weights: str | None = "imagenet"
    head: str = "linear"
    hidden_units: int = 256
    dropout: float = 0.2

    def __post_init__(self):
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}. "
                             f"Received: head={self.head!r}")


@dataclass
class FitConfig(_Dict):
    """How a classifier trains.

    Args:
        batch_size: examples per step, in both phases.
        epochs: phase 1 (head only, frozen backbone) epochs at most.
        learning_rate: phase 1 learning rate (Adam).
        fine_tune_blocks: phase 2 unfreezes this many last blocks; 0 skips it.
        fine_tune_epochs: phase 2 epochs at most.
        fine_tune_learning_rate: phase 2 peak learning rate; None means
            learning_rate / 100, the Keras guide's rule of thumb.
        warmup_epochs: phase 2 linear warmup before the cosine decay.
        train_batchnorm: phase 2 trains BatchNorm layers too; only for
            training from scratch (pretrained BatchNorm stays frozen).
        label_smoothing: for the cross-entropy loss.
        class_weight: `"balanced"` weighs classes by inverse frequency, for
            imbalanced folders; None weighs all alike.
        augment: strength of random flip/rotation/zoom/contrast, 0 to 1; 0
            turns augmentation off and lets phase 1 use cached features.
        patience: early stopping on validation loss, epochs without improvement.
        min_epochs: no early stop before this many epochs in all, so a run
            that has not yet learned is not ended for it.
        seed: seeds weights, shuffling and augmentation.
        jit_compile: XLA-compile the train step.
        mixed_precision: "auto" (float16 when a GPU is present), "off",
            "float16" or "bfloat16", as zoo.precision says; True is "float16".
        strategy: `"default"`, `"mirrored"` (all local GPUs) or
            `"multi_worker"` (the hosts in each worker's TF_CONFIG).
        feature_cache: cache phase 1 backbone features (needs augment == 0).
    """

    batch_size: int = 32
    epochs: int = 10
    learning_rate: float = 1e-3
    fine_tune_blocks: int = 0
    fine_tune_epochs: int = 5
    fine_tune_learning_rate: float | None = None
    warmup_epochs: float = 1.0
    train_batchnorm: bool = False
    label_smoothing: float = 0.0
    class_weight: str | None = None
    augment: float = 0.0
    patience: int = 3
    min_epochs: int = 0
    seed: int = DEFAULT_SEED
    jit_compile: bool = False
    mixed_precision: str = "auto"
    strategy: str = "default"
    feature_cache: bool = True

    def __post_init__(self):
        self.mixed_precision = check_mixed_precision(self.mixed_precision)
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced'. "
                             f"Received: class_weight={self.class_weight!r}")
        if not 0.0 <= self.augment <= 1.0:
            raise ValueError(f"augment must be in [0, 1]. Received: augment={self.augment!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1). "
                             f"Received: label_smoothing={self.label_smoothing!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be 'default', 'mirrored' or 'multi_worker'. "
                             f"Received: strategy={self.strategy!r}")
        for name in ("epochs", "fine_tune_epochs", "fine_tune_blocks", "batch_size", "patience",
                     "min_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (1 if name == "batch_size" else 0):
                raise ValueError(f"{name} must be a non-negative integer. "
                                 f"Received: {name}={value!r}")

    @property
    def phase2_learning_rate(self) -> float:
        if self.fine_tune_learning_rate is not None:
            return self.fine_tune_learning_rate
        return self.learning_rate / 100.0

    @property
    def uses_feature_cache(self) -> bool:
        return self.feature_cache and self.augment == 0.0


# The model's fields come first (dataclass fields follow the bases in reverse).
@dataclass
class TrainConfig(FitConfig, ClassifierConfig):
    """What to train and how: a ClassifierConfig's fields and a FitConfig's,
    flat. Recipes fill it from their command line."""

    def __post_init__(self):
        ClassifierConfig.__post_init__(self)
        FitConfig.__post_init__(self)

    @property
    def classifier(self) -> ClassifierConfig:
        """The model's part: what travels with the saved model."""
        return _part(ClassifierConfig, self)

    @property
    def fit(self) -> FitConfig:
        return _part(FitConfig, self)

    @classmethod
    def from_parts(cls, classifier: ClassifierConfig, fit: FitConfig) -> "TrainConfig":
        return cls(**classifier.to_dict(), **fit.to_dict())


def _part(cls, config):
    return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls)})


def train_from_scratch(config: TrainConfig, total_epochs: int | None = None,
                       min_epochs: int = 0) -> TrainConfig:
    """`config` without pretrained weights: frozen random features teach
    nothing, so every block trains, BatchNorm too, at the full learning rate,
    for all the epochs (phase 1's and phase 2's, unless `total_epochs` is given).

    Args:
        min_epochs: no early stop before this many epochs; from scratch the
            validation loss is noisy early on.

    Early stopping waits a sixth of the epochs (3 at least): on 30 glyphs a
    class, a patience of 3 stopped one seed of three at epoch 30 with the
    training accuracy at 0.45 and the test accuracy at chance, while another
    seed went on to 0.98 and 0.78.
    """
    from zoo.backbones import backbone_info

    total = config.epochs + config.fine_tune_epochs if total_epochs is None else total_epochs
    return dataclasses.replace(
        config, weights=None, epochs=0, fine_tune_blocks=len(backbone_info(config.backbone).blocks),
        train_batchnorm=True, fine_tune_epochs=total, min_epochs=min_epochs,
        patience=max(config.patience, total // 6),
        fine_tune_learning_rate=config.learning_rate, warmup_epochs=0.0)
