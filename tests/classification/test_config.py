"""A TrainConfig is a ClassifierConfig (what create_classifier builds) and a
FitConfig (how it trains), flat; the model's part rebuilds the model."""

import dataclasses

import numpy as np
import pytest

from zoo.classification.config import ClassifierConfig, FitConfig, TrainConfig


def names(cls):
    return [f.name for f in dataclasses.fields(cls)]


def test_the_parts_split_every_field_once_the_models_first():
    assert names(TrainConfig) == names(ClassifierConfig) + names(FitConfig)
    assert not set(names(ClassifierConfig)) & set(names(FitConfig))


def test_a_config_splits_into_its_parts_and_joins_again():
    config = TrainConfig(backbone="resnet50", image_size=64, head="mlp", epochs=3,
                         learning_rate=0.01, mixed_precision="bfloat16")
    assert config.classifier == ClassifierConfig(backbone="resnet50", image_size=64, head="mlp")
    assert config.fit == FitConfig(epochs=3, learning_rate=0.01, mixed_precision="bfloat16")
    assert TrainConfig.from_parts(config.classifier, config.fit) == config
    assert ClassifierConfig.from_dict({**config.classifier.to_dict(), "from_later": 1}) == \
        config.classifier


def test_each_part_checks_its_own_fields():
    with pytest.raises(ValueError, match="head must be one of linear, mlp"):
        TrainConfig(head="conv")
    with pytest.raises(ValueError, match="augment must be in"):
        FitConfig(augment=2.0)


def test_the_model_part_builds_what_create_classifier_builds():
    import keras
    from zoo.classification import build_classifier, create_classifier

    classifier = ClassifierConfig(backbone="mobilenet_v3_small", image_size=32, weights=None,
                                  head="mlp", hidden_units=8, dropout=0.1)
    keras.utils.set_random_seed(0)
    built = build_classifier(classifier, 3)
    keras.utils.set_random_seed(0)
    plain = create_classifier("mobilenet_v3_small", 3, weights=None, input_shape=32,
                              head="mlp", hidden_units=8, dropout=0.1)
    assert [w.shape for w in built.weights] == [w.shape for w in plain.weights]
    images = np.random.RandomState(0).randint(0, 256, (2, 32, 32, 3)).astype("uint8")
    np.testing.assert_allclose(built.predict(images, verbose=0),
                               plain.predict(images, verbose=0), rtol=0, atol=1e-6)


def test_from_scratch_every_block_trains_in_one_phase_and_stopping_waits_longer():
    from zoo.classification.config import train_from_scratch

    config = train_from_scratch(TrainConfig(backbone="small_resnet", epochs=30,
                                            fine_tune_epochs=30), min_epochs=30)
    assert (config.weights, config.epochs, config.fine_tune_epochs, config.fine_tune_blocks,
            config.train_batchnorm, config.min_epochs) == (None, 0, 60, 4, True, 30)
    assert config.patience == 10  # a sixth of the epochs
    short = train_from_scratch(TrainConfig(epochs=8, fine_tune_epochs=4))
    assert short.patience == 3  # never below the default
