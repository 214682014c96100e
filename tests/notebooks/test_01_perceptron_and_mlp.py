"""Notebook 01: a perceptron cannot learn XOR, an MLP can, and an MLP learns the digits."""

import pytest


@pytest.mark.slow
def test_a_hidden_layer_learns_xor_and_the_digits(run_notebook):
    results = run_notebook("01_perceptron_and_mlp.ipynb")

    # No line separates XOR: a perceptron gets at most three of the four points right.
    assert results["perceptron_xor_accuracy"] <= 0.75
    assert results["mlp_xor_accuracy"] == 1.0
    # The majority class of ten balanced digits is right about one time in ten; at quick
    # settings the best MLP is above 0.9, so a margin of 0.6 leaves room for noise.
    assert results["digits_majority_rate"] == pytest.approx(0.1, abs=0.02)
    assert results["digits_best_accuracy"] > results["digits_majority_rate"] + 0.6
    # The best choice is the one with the highest validation accuracy.
    val = results["digits_val_accuracy"]
    assert set(val) == {"relu + adam", "sigmoid", "selu", "relu + dropout",
                        "relu + batch norm", "relu + sgd"}
    assert val[results["digits_best_choice"]] == max(val.values())
