"""Notebook 05: SimpleRNN and LSTM predicting the next note of held-out Bach chorales."""

import pytest


@pytest.mark.slow
def test_lstm_beats_guessing_and_keeps_the_gradient_the_simple_rnn_loses(run_notebook):
    results = run_notebook("05_rnn_lstm.ipynb")
    accuracy = results["heldout_accuracy"]
    ratio = results["gradient_ratio_early_to_late"]

    # Both networks learn something a note-repeating or single-note guesser cannot.
    trivial = max(accuracy["repeat_previous"], accuracy["most_common"])
    assert accuracy["LSTM"] > trivial + 0.05, accuracy
    assert accuracy["SimpleRNN"] > trivial + 0.05, accuracy
    # The vanishing gradient: 99 steps back, the trained SimpleRNN's input gradient is a
    # vanishing fraction of its last step's, and orders of magnitude below the LSTM's share.
    assert ratio["SimpleRNN"] < 1e-3, ratio
    assert ratio["LSTM"] > 100 * ratio["SimpleRNN"], ratio
