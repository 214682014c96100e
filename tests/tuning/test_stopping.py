"""The median stopping rule: synthetic histories, the callback, a curve as a series."""

import keras

from zoo.tuning.run_tree import series_by_epoch
from zoo.tuning.stopping import MedianStopping, median_rule_stops

FINISHED = {"0": [0.5, 0.7, 0.8, 0.85], "1": [0.4, 0.6, 0.75, 0.8], "2": [0.3, 0.5, 0.6]}


def test_a_trial_below_the_median_stops_after_the_warmup():
    bad = {0: 0.1, 1: 0.2, 2: 0.25}
    assert not median_rule_stops(bad, 0, FINISHED, "max", warmup_epochs=2)
    assert median_rule_stops(bad, 1, FINISHED, "max", warmup_epochs=2)


def test_a_trial_above_the_median_goes_on():
    good = {0: 0.6, 1: 0.65, 2: 0.9}
    assert not any(median_rule_stops(good, e, FINISHED, "max", warmup_epochs=1)
                   for e in range(3))


def test_running_best_forgives_one_bad_epoch():
    dip = {0: 0.6, 1: 0.1}  # best so far 0.6 > median of running bests at epoch 1 (0.6)
    assert not median_rule_stops(dip, 1, FINISHED, "max", warmup_epochs=1)


def test_min_direction_and_too_few_trials():
    losses = {"0": [1.0, 0.5], "1": [1.2, 0.6]}
    assert median_rule_stops({0: 2.0, 1: 1.5}, 1, losses, "min", warmup_epochs=1)
    assert not median_rule_stops({0: 2.0, 1: 1.5}, 1, {"0": [1.0, 0.5]}, "min",
                                 warmup_epochs=1, min_trials=2)
    # only finished trials that reached this epoch count
    assert not median_rule_stops({0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}, 4, FINISHED, "max",
                                 warmup_epochs=1)


def test_the_callback_sets_stop_training_and_records_values():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = MedianStopping("val_accuracy", "max", FINISHED, warmup_epochs=2)
    callback.set_model(model)
    model.stop_training = False
    callback.on_epoch_end(0, {"val_accuracy": 0.1})
    assert not model.stop_training
    callback.on_epoch_end(1, {"val_accuracy": 0.2})
    assert model.stop_training and callback.stopped_epoch == 1
    assert callback.values == {0: 0.1, 1: 0.2}


def test_turned_off_it_only_records():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = MedianStopping("val_accuracy", "max", FINISHED, warmup_epochs=None)
    callback.set_model(model)
    model.stop_training = False
    for epoch in range(3):
        callback.on_epoch_end(epoch, {"val_accuracy": 0.0})
    assert not model.stop_training and callback.stopped_epoch is None


def test_a_curve_becomes_a_series_by_epoch():
    assert series_by_epoch({}) == []
    assert series_by_epoch({0: 0.5, 2: 0.7}) == [0.5, None, 0.7]
