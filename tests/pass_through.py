"""A model whose predictions are whatever its inputs say, for tests that need
exact probabilities: `pass_through_model()` on `logit_inputs(first, second)`
ranks class `first` top and `second` next for every row."""

import numpy as np


def logit_inputs(first, second, num_classes=3):
    inputs = np.zeros((len(first), num_classes + 1), dtype="float32")
    rows = np.arange(len(first))
    inputs[rows, first] = 3.0
    inputs[rows, second] = 1.0
    return inputs


def pass_through_model(num_classes=3):
    """softmax(inputs[:num_classes]): its predictions are whatever the inputs say."""
    import keras

    model = keras.Sequential([keras.Input((num_classes + 1,)),
                              keras.layers.Dense(num_classes, activation="softmax")])
    kernel = np.vstack([np.eye(num_classes), np.zeros((1, num_classes))]).astype("float32")
    model.layers[-1].set_weights([kernel, np.zeros(num_classes, "float32")])
    return model
