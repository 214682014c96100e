"""A saved ResNet generator is plain Keras: it loads with safe_mode=True in a
process where zoo cannot be imported, and translates exactly as before."""

import os
import subprocess
import sys
import textwrap

import numpy as np

from zoo.gan.resnet import resnet_generator

LOADER = textwrap.dedent(
    """
    import sys
    sys.modules["zoo"] = None  # any import of zoo now fails
    import numpy as np
    import keras
    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    images = np.load(sys.argv[2])
    np.save(sys.argv[3], keras.ops.convert_to_numpy(model(images)))
    """
)


def test_saved_generator_loads_in_plain_keras_with_safe_mode(tmp_path):
    model = resnet_generator(2, ngf=4)
    rng = np.random.RandomState(0)
    for weight in model.trainable_weights:  # biases too, so every weight matters
        weight.assign(rng.normal(0, 0.1, weight.shape))
    images = rng.uniform(-1, 1, (2, 20, 28, 3)).astype("float32")
    path = tmp_path / "generator.keras"
    model.save(path)
    np.save(tmp_path / "in.npy", images)
    result = subprocess.run(
        [sys.executable, "-c", LOADER, str(path), str(tmp_path / "in.npy"),
         str(tmp_path / "out.npy")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), model(images).numpy())
