"""translate at any size and in tiles, the uint8 model, and its saved forms."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from zoo.gan import unet_generator
from zoo.gan.inference import (
    downsampling_factor,
    export_saved_model,
    translate,
    uint8_model,
    with_image_statistics,
)

from tolerances import assert_same_image_up_to_rounding

# Compares floats from TensorFlow's kernels: CI runs it with oneDNN flipped too.
pytestmark = pytest.mark.numerics


ODD_SIZE = (300, 437)  # no side a multiple of anything the U-Net needs


@pytest.fixture(scope="module")
def generator():
    """A depth-3 U-Net (factor 8, receptive-field radius under 18 px) whose
    weights are large enough that its output varies across the image."""
    keras.utils.set_random_seed(0)
    model = unet_generator(32, depth=3, ngf=8, norm="batch")
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        if len(variable.shape) == 4:
            variable.assign(rng.normal(0, 0.08, variable.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def odd_image():
    return np.random.default_rng(1).integers(0, 256, (*ODD_SIZE, 3), dtype=np.uint8)


def _direct(model, batch):
    """The model's output on the 0..255 scale, rounded as translate rounds."""
    output = np.asarray(model(batch.astype("float32") / np.float32(127.5) - 1, training=False))
    return np.floor(np.clip(output * np.float32(127.5) + np.float32(127.5), 0, 255) + 0.5)


def test_downsampling_factor_counts_strided_convolutions(generator):
    assert downsampling_factor(generator) == 8
    assert downsampling_factor(unet_generator(16, ngf=4)) == 16
    assert downsampling_factor(uint8_model(generator)) == 8
    upsampler = keras.Sequential([keras.Input((None, None, 3)),
                                  keras.layers.Conv2DTranspose(3, 4, strides=2)])
    assert downsampling_factor(upsampler) == 1


def test_any_size_comes_back_at_its_own_size(generator, odd_image):
    output = translate(generator, odd_image)
    assert output.shape == odd_image.shape and output.dtype == np.uint8
    assert output.std() > 5  # not a flat image: the comparisons below mean something
    batch = np.random.default_rng(2).integers(0, 256, (2, 37, 53, 3), dtype=np.uint8)
    assert translate(generator, batch).shape == (2, 37, 53, 3)
    tiny = [np.full((1, 1, 3), 7, np.uint8), np.zeros((5, 3, 3), np.uint8)]
    assert [out.shape for out in translate(generator, tiny)] == [(1, 1, 3), (5, 3, 3)]


def test_padding_is_reflection_split_around_the_image(generator, odd_image):
    # 300 -> 304 (2 above, 2 below), 437 -> 440 (1 left, 2 right).
    padded = np.pad(odd_image[None], ((0, 0), (2, 2), (1, 2), (0, 0)), mode="reflect")
    expected = _direct(generator, padded)[0, 2:302, 1:438]
    # Two graphs of the same maths: their float32 convolutions may round
    # differently by CPU (oneDNN's kernels or Eigen's), which moves a rare
    # pixel across a uint8 rounding edge. One grey level, for few pixels;
    # wrong padding moves whole borders by far more.
    assert_same_image_up_to_rounding(translate(generator, odd_image), expected)
    multiple = odd_image[:32, :64]
    assert_same_image_up_to_rounding(translate(generator, multiple),
                                     _direct(generator, multiple[None])[0])


def test_uint8_model_gives_the_same_bytes_as_translate(generator, odd_image):
    model = uint8_model(generator)
    assert model.input.dtype == "uint8" and model.output.dtype == "uint8"
    np.testing.assert_array_equal(translate(model, odd_image), translate(generator, odd_image))
    batch = odd_image[None, :64, :96]
    direct = np.asarray(model(batch))
    assert direct.dtype == np.uint8
    np.testing.assert_array_equal(direct, translate(generator, batch))
    for layer in model.layers:
        assert type(layer).__module__.startswith("keras."), type(layer)


def test_tiles_match_the_whole_image_where_the_receptive_field_fits(generator, odd_image):
    whole = translate(generator, odd_image).astype(int)
    # overlap // 4 = 18 px of context at each cut edge covers the receptive field.
    tiled = translate(generator, odd_image, tile=96, overlap=72)
    assert tiled.shape == odd_image.shape
    assert np.abs(tiled - whole).max() <= 1
    # Without overlap the cut edges show: the comparison above can fail.
    seams = translate(generator, odd_image, tile=96, overlap=0)
    assert np.abs(seams - whole).max() > 10
    # One tile larger than the image is the whole image.
    np.testing.assert_array_equal(translate(generator, odd_image, tile=512), whole)


def test_tile_must_be_a_multiple_of_the_factor(generator, odd_image):
    with pytest.raises(ValueError, match="multiple of 8"):
        translate(generator, odd_image, tile=100)
    with pytest.raises(ValueError, match="overlap"):
        translate(generator, odd_image, tile=96, overlap=96)


def test_bad_images_are_refused(generator):
    with pytest.raises(ValueError, match="uint8"):
        translate(generator, np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="images.shape"):
        translate(generator, np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="3-channel"):
        translate(generator, np.zeros((8, 8, 4), np.uint8))


def test_paper_mode_uses_batch_statistics_and_keeps_the_moving_ones(generator, odd_image):
    image = odd_image[:64, :64]
    statistics = [v for v in generator.non_trainable_variables if "moving" in v.path]
    assert statistics
    moving = [v.numpy().copy() for v in statistics]
    paper = translate(generator, image, paper_mode=True)
    assert paper.shape == image.shape
    assert np.abs(paper.astype(int) - translate(generator, image)).mean() > 1
    for before, variable in zip(moving, statistics):
        np.testing.assert_array_equal(variable.numpy(), before)


LOADER = textwrap.dedent("""
    import json, sys
    sys.modules["zoo"] = None  # make `import zoo` fail in this process
    try:
        import zoo  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("zoo is importable, the test would prove nothing")
    import keras
    import numpy as np
    case = json.loads(sys.argv[1])
    model = keras.saving.load_model(case["model"], safe_mode=True)
    output = np.asarray(model(np.load(case["images"])))
    np.save(case["output"], output)
    print("loaded", output.dtype)
""")


@pytest.mark.slow
def test_saved_uint8_model_loads_without_zoo(generator, tmp_path):
    model = uint8_model(generator)
    images = np.random.default_rng(3).integers(0, 256, (2, 40, 56, 3), dtype=np.uint8)
    case = {key: str(tmp_path / name) for key, name in
            (("model", "translator.keras"), ("images", "in.npy"), ("output", "out.npy"))}
    model.save(case["model"])
    np.save(case["images"], images)
    worktree = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
        if p and os.path.abspath(p) != worktree)}
    result = subprocess.run([sys.executable, "-c", LOADER, json.dumps(case)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded uint8" in result.stdout
    np.testing.assert_array_equal(np.load(case["output"]), np.asarray(model(images)))


def test_exported_saved_model_serves_the_same_outputs(generator, tmp_path):
    import tensorflow as tf

    images = np.random.default_rng(4).integers(0, 256, (1, 24, 40, 3), dtype=np.uint8)
    model = uint8_model(generator)
    served = tf.saved_model.load(export_saved_model(model, tmp_path / "uint8"))
    np.testing.assert_array_equal(served.serve(tf.constant(images)).numpy(),
                                  np.asarray(model(images)))
    floats = images.astype("float32") / 127.5 - 1
    served = tf.saved_model.load(export_saved_model(generator, tmp_path / "float"))
    np.testing.assert_allclose(served.serve(tf.constant(floats)).numpy(),
                               np.asarray(generator(floats, training=False)), atol=1e-5)


def test_with_image_statistics_is_batchnorm_in_training_mode_for_one_image():
    generator = unet_generator(32, ngf=4, dropout=0.0)
    rng = np.random.RandomState(0)
    for layer in generator.layers:  # moving statistics far from any one image's
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=layer.moving_mean.shape))
    copy = with_image_statistics(generator)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in copy.layers)
    image = rng.uniform(-1, 1, (1, 64, 32, 3)).astype("float32")
    np.testing.assert_allclose(copy(image), generator(image, training=True), atol=1e-5)
    assert np.abs(np.asarray(copy(image)) - np.asarray(generator(image, training=False))).max() \
        > 0.05
