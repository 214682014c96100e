"""A saved ResNet generator is plain Keras: it loads with safe_mode=True in a
process where zoo cannot be imported, and translates exactly as before."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from zoo.gan.cyclegan.resnet import resnet_generator, with_image_size

LOADER = textwrap.dedent(
    """
    import sys
    sys.modules["zoo"] = None  # any import of zoo now fails
    import numpy as np
    import keras
    images = np.load(sys.argv[1])
    for name in ("any_size", "fixed_size"):
        model = keras.saving.load_model(f"{name}.keras", safe_mode=True)
        np.save(f"{name}.npy", keras.ops.convert_to_numpy(model(images)))
    """
)


@pytest.mark.slow
def test_saved_generator_loads_in_plain_keras_with_safe_mode(tmp_path):
    # As training builds it (a fixed size), then as saved for inference (any size).
    fixed = resnet_generator(2, ngf=4, image_size=(20, 28))
    rng = np.random.RandomState(0)
    for weight in fixed.trainable_weights:  # biases too, so every weight matters
        weight.assign(rng.normal(0, 0.1, weight.shape))
    images = rng.uniform(-1, 1, (2, 20, 28, 3)).astype("float32")
    models = {"fixed_size": fixed, "any_size": with_image_size(fixed)}
    for name, model in models.items():
        model.save(tmp_path / f"{name}.keras")
    np.save(tmp_path / "in.npy", images)
    result = subprocess.run(
        [sys.executable, "-c", LOADER, str(tmp_path / "in.npy")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    for name, model in models.items():
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), model(images).numpy())
