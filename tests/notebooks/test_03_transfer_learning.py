"""03_transfer_learning: two-phase fine-tuning beats chance, and the registry gives it back."""

import pytest


@pytest.mark.slow
def test_registered_champion_reloads_exactly_and_beats_the_majority_class(run_notebook):
    results = run_notebook("03_transfer_learning.ipynb")
    # A fresh store: this run's version is the first, so it is the champion,
    # and models:/NAME@champion is the model the notebook trained.
    assert results["champion_is_this_run"] is True
    assert results["reloaded_from"].endswith("@champion")
    assert results["reloaded_predictions_identical"] is True
    assert results["reloaded_classes_identical"] is True
    # Fine-tuned from the 0-4 backbone, 20 labels per class: well above always
    # answering the most frequent of the five digits (about 0.2).
    assert results["transfer_test_accuracy"] > results["majority_class_accuracy"] + 0.15
    assert set(results["backbone_parameters"]) == {"resnet50", "inception_v3", "vgg16",
                                                   "xception"}
