"""Running an image-to-image generator on real images, and shipping it.

    translate(generator, images)     uint8 images of any size in, uint8 out
    downsampling_factor(model)       what image sides must be multiples of
    uint8_model(generator)           uint8 in, uint8 out, built-in layers only
    with_image_statistics(generator) BatchNorm as the paper tests it, for saving
    export_saved_model(model, path)  a TensorFlow SavedModel for serving

Any size: the U-Net takes sides that are multiples of 2**depth. `translate`
pads each image by reflection up to the next multiple, runs the generator
and crops the output back, so a 300x437 photo comes back 300x437. Images
far larger than the training size can be cut into overlapping tiles
(`tile=`) that are blended smoothly (see `zoo.gan.tiling`).

Inference mode or the paper's: by default the generator runs with
`training=False`: BatchNorm uses its moving statistics and dropout is off,
so the same image always gives the same output. Pix2Pix's paper (and its
reference code) instead runs the generator at test time as in training:
dropout on and BatchNorm normalising with the statistics of the image
itself (its batch size is 1). `paper_mode=True` does that.

Pixels: uint8 x becomes x / 127.5 - 1 for the generator, whose output y in
[-1, 1] becomes round(clip(y * 127.5 + 127.5, 0, 255)) with halves rounded
up. `uint8_model` does the same arithmetic in float32 with Keras layers, so
both give the same bytes.
"""

from __future__ import annotations

import contextlib
import math
import os

import keras
import numpy as np

# x / 127.5 - 1 and back, as float32 constants so NumPy and the Keras layers
# of `uint8_model` do exactly the same float32 arithmetic.
_TO_UNIT_SCALE = np.float32(1 / 127.5)
_TO_UNIT_OFFSET = np.float32(-1.0)
_TO_PIXEL_SCALE = np.float32(127.5)
_TO_PIXEL_OFFSET = np.float32(127.5)
_HALF = np.float32(0.5)
_MAX_PIXEL = np.float32(255.0)

DEFAULT_BATCH_SIZE = 8

# Layers that shrink the image by their strides.
_DOWNSAMPLING_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                        keras.layers.SeparableConv2D, keras.layers.MaxPooling2D,
                        keras.layers.AveragePooling2D)


def downsampling_factor(model) -> int:
    """What a generator's input height and width must be multiples of.

    The product of the strides of every strided convolution and pooling
    layer, nested models included (so it also works on `uint8_model`'s
    wrapper): 2**depth for the U-Net, 4 for a CycleGAN ResNet generator.
    Transposed convolutions scale back up and do not count. Right for
    encoder-decoders whose strided layers form one chain.

    Args:
        model: a Keras model.

    Returns:
        The factor, 1 when nothing down-samples.
    """
    factors = [1, 1]
    for layer in _flat_layers(model):
        if isinstance(layer, _DOWNSAMPLING_LAYERS):
            for axis, stride in enumerate(layer.strides):
                factors[axis] *= int(stride)
    return math.lcm(*factors)


def translate(generator, images, *, multiple: int | None = None, tile: int | None = None,
              overlap: int | None = None, paper_mode: bool = False,
              batch_size: int = DEFAULT_BATCH_SIZE):
    """Translate uint8 images of any size with a generator.

    Each image is padded by reflection (repeated for tiny images) to a
    multiple of `multiple`, translated, and cropped back to its own size.

    Tiles (`tile=N`) bound the memory for very large images: the padded
    image is cut into N x N tiles overlapping by `overlap` pixels, each tile
    is translated alone, and the outputs are blended with weights that fall
    smoothly to ~0 across each overlap, so there are no seams. Tiling is an
    approximation: a U-Net at its training depth reaches a 1x1 bottleneck,
    so every output pixel depends on the whole input, and a tile sees only
    its part. Outputs match the untiled ones where a generator's receptive
    field fits inside the tiles; the U-Net's global context differs per tile.

    Args:
        generator: a Keras model, either a float generator ([-1, 1] in, tanh
            out) or a `uint8_model` (told apart by its input dtype).
        images: uint8 array (height, width, channels) or (n, height, width,
            channels), any height and width; or a list of (height, width,
            channels) arrays of different sizes.
        multiple: pad sides to multiples of this; default
            `downsampling_factor(generator)`.
        tile: tile side in pixels, a multiple of `multiple`; None runs each
            image whole.
        overlap: pixels neighbouring tiles share; default a quarter of the
            tile, rounded down to a multiple of `multiple` when that leaves
            some (so tiles stay on the generator's stride grid).
        paper_mode: run as the Pix2Pix paper tests: `training=True`
            (dropout on, BatchNorm with the statistics of each image or tile,
            one at a time). Outputs are then random. BatchNorm's moving
            statistics are restored afterwards. Works with any Keras model,
            a loaded `.keras` uint8 model included; a SavedModel from
            `export_saved_model` is traced in inference mode and has no such
            switch.
        batch_size: images or tiles per generator call.

    Returns:
        uint8 array of the input's shape (channels those of the output), or
        a list of them for a list input.
    """
    if isinstance(images, (list, tuple)):
        return [translate(generator, image, multiple=multiple, tile=tile, overlap=overlap,
                          paper_mode=paper_mode, batch_size=batch_size) for image in images]
    images = _check_images(generator, images)
    multiple = _check_multiple(generator, multiple)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1. Received: batch_size={batch_size}")
    single = images.ndim == 3
    batch = images[None] if single else images
    if tile is None:
        pixels = _translate_padded(generator, batch, multiple, paper_mode, batch_size)
    else:
        tile, overlap = _check_tiling(tile, overlap, multiple)
        pixels = np.stack([
            _translate_tiled(generator, image, multiple, tile, overlap, paper_mode, batch_size)
            for image in batch])
    output = _quantise(pixels)
    return output[0] if single else output


def uint8_model(generator, name: str | None = None) -> keras.Model:
    """Wrap a float generator into a model from uint8 RGB to uint8 RGB.

    The scaling is inside, made of built-in Keras layers only, so the saved
    `.keras` file loads with `keras.saving.load_model(path, safe_mode=True)`
    where zoo is not installed:

        Rescaling(1/127.5, offset=-1)       uint8 -> [-1, 1]
        generator
        Rescaling(127.5, offset=127.5)      [-1, 1] -> [0, 255]
        ReLU(max_value=255)                 clip to [0, 255]
        Rescaling(1, offset=0.5)            + 0.5, so truncation rounds half up
        Rescaling(1, dtype="uint8")         cast to uint8 (truncates)

    The wrapper shares the generator's weights (no copy). Its outputs are
    byte for byte those of `translate(generator, ...)` on the same inputs.

    Args:
        generator: a float Keras generator with one (None, None, channels)
            style image input.
        name: the model's name; default "<generator name>_uint8".

    Returns:
        A functional `keras.Model`, input uint8 (None, None, channels),
        output uint8.
    """
    if _takes_uint8(generator):
        raise ValueError(f"The model {generator.name!r} already takes uint8 images; pass the "
                         "float generator to uint8_model.")
    shape = _input_shape(generator)
    inputs = keras.Input((None, None, shape[-1]), dtype="uint8", name="image_uint8")
    x = keras.layers.Rescaling(float(_TO_UNIT_SCALE), offset=float(_TO_UNIT_OFFSET),
                               name="from_uint8")(inputs)
    x = generator(x)
    x = keras.layers.Rescaling(float(_TO_PIXEL_SCALE), offset=float(_TO_PIXEL_OFFSET),
                               name="to_pixels")(x)
    x = keras.layers.ReLU(max_value=float(_MAX_PIXEL), name="clip")(x)
    x = keras.layers.Rescaling(1.0, offset=float(_HALF), name="round_half_up")(x)
    # Rescaling casts its input to its own dtype first; a float -> uint8 cast
    # truncates, which after the + 0.5 rounds to the nearest integer.
    outputs = keras.layers.Rescaling(1.0, dtype="uint8", name="to_uint8")(x)
    return keras.Model(inputs, outputs, name=name or f"{generator.name}_uint8")


def with_image_statistics(generator, name: str | None = None) -> keras.Model:
    """A copy of `generator` whose BatchNorm layers normalise each image with
    its own statistics, as they do in training with batch size 1.

    That is how the Pix2Pix paper tests its generator (its batch size is 1,
    which makes BatchNorm an instance norm with a learned scale and offset),
    and a saved Keras model cannot do it with BatchNormalization: a loaded
    model runs in inference mode, on the moving statistics. So each
    BatchNormalization becomes `GroupNormalization(groups=-1)` with the same
    scale, offset and epsilon: built-in layers, loadable without zoo. Dropout
    is the one part of the paper's test mode it leaves out (a saved model is
    deterministic). Layers share nothing with `generator`: weights are copied.
    """
    config = generator.get_config()
    for entry in config["layers"]:
        if entry["class_name"] != "BatchNormalization":
            continue
        norm = entry["config"]
        entry.update(class_name="GroupNormalization", config={
            "name": norm["name"], "dtype": norm["dtype"], "trainable": norm["trainable"],
            "groups": -1, "axis": -1, "epsilon": norm["epsilon"], "center": norm["center"],
            "scale": norm["scale"]})
        for node in entry["inbound_nodes"]:
            node["kwargs"].pop("mask", None)  # BatchNormalization's argument only
    copy = keras.Model.from_config(config)
    for source, target in zip(generator.layers, copy.layers):
        if isinstance(source, keras.layers.BatchNormalization):
            target.set_weights([w for w, kept in ((source.gamma, source.scale),
                                                  (source.beta, source.center)) if kept])
        else:
            target.set_weights(source.get_weights())
    if name:
        copy.name = name
    return copy


def export_saved_model(model, path) -> str:
    """Export a model as a TensorFlow SavedModel for serving.

    Uses Keras 3's `model.export(path, format="tf_saved_model")`. Reload with
    `tf.saved_model.load(path)` and call its `serve` function on a batch of
    the model's input dtype (uint8 for a `uint8_model`, any height and width
    the model accepts). The function is traced in inference mode:
    `paper_mode` is not available there.

    Args:
        model: a Keras model, e.g. `uint8_model(generator)`.
        path: the folder to write.

    Returns:
        The path, as a string.
    """
    path = os.fspath(path)
    model.export(path, format="tf_saved_model", verbose=False)
    return path


def save_generator(model, keras_path, saved_model_dir) -> None:
    """Write a served generator twice: the `.keras` file (atomically, so a
    kill never leaves half a file), then the SavedModel."""
    from zoo.files import atomic_file

    with atomic_file(keras_path) as staging:
        model.save(staging)
    export_saved_model(model, saved_model_dir)


def float_translator(generator, *, training: bool = False):
    """uint8 batch -> uint8 batch through a float generator ([-1, 1] in and
    out); `training=True` runs it as the Pix2Pix paper tests it."""
    from zoo.gan.metrics import from_uint8, to_uint8

    return lambda images: to_uint8(generator(from_uint8(images), training=training)).numpy()


def served_translator(model):
    """uint8 batch -> uint8 batch through a saved (`uint8_model`) generator."""
    return lambda images: np.asarray(model(images, training=False))


# ---------------------------------------------------------------------------


def _flat_layers(model):
    for layer in getattr(model, "layers", ()):
        yield layer
        yield from _flat_layers(layer)


def _input_shape(model) -> tuple:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ValueError(f"The generator must take one image input of shape (batch, height, "
                         f"width, channels). Received a model with inputs "
                         f"{[tuple(t.shape) for t in inputs or ()]}.")
    return tuple(inputs[0].shape)


def _takes_uint8(model) -> bool:
    inputs = getattr(model, "inputs", None) or ()
    return len(inputs) == 1 and keras.backend.standardize_dtype(inputs[0].dtype) == "uint8"


def _check_images(generator, images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixels in [0, 255]; convert with "
                         f"images.astype(np.uint8) if they are. Received: dtype={images.dtype}")
    if images.ndim not in (3, 4) or 0 in images.shape:
        raise ValueError(f"images must have shape (height, width, channels) or (n, height, "
                         f"width, channels). Received: images.shape={images.shape}")
    channels = _input_shape(generator)[-1]
    if channels is not None and images.shape[-1] != channels:
        raise ValueError(f"The generator takes {channels}-channel images. Received: "
                         f"images.shape={images.shape}")
    return images


def _check_multiple(generator, multiple) -> int:
    if multiple is None:
        return downsampling_factor(generator)
    if int(multiple) != multiple or multiple < 1:
        raise ValueError(f"multiple must be a positive integer. Received: multiple={multiple}")
    return int(multiple)


def _check_tiling(tile, overlap, multiple) -> tuple[int, int]:
    if int(tile) != tile or tile < 1 or tile % multiple:
        raise ValueError(f"tile must be a positive multiple of {multiple}, the generator's "
                         f"down-sampling factor. Received: tile={tile}")
    tile = int(tile)
    if overlap is None:
        aligned = tile // 4 // multiple * multiple
        overlap = aligned if aligned else tile // 4
    if int(overlap) != overlap or not 0 <= overlap < tile:
        raise ValueError(f"overlap must be an integer from 0 to tile - 1 = {tile - 1}. "
                         f"Received: overlap={overlap}")
    return tile, int(overlap)


def _pad_widths(height: int, width: int, multiple: int):
    """Reflection padding split around each axis: ((top, bottom), (left, right))."""
    widths = []
    for size in (height, width):
        total = -size % multiple
        widths.append((total // 2, total - total // 2))
    return widths


def _reflect(batch: np.ndarray, widths) -> np.ndarray:
    # NumPy's "reflect" reflects again and again when the pad is longer than
    # the side, and repeats a side of 1 pixel, so it never fails.
    return np.pad(batch, ((0, 0), *widths, (0, 0)), mode="reflect")


def _crop(batch: np.ndarray, widths, height: int, width: int) -> np.ndarray:
    (top, _), (left, _) = widths
    return batch[:, top:top + height, left:left + width]


def _translate_padded(generator, batch, multiple, paper_mode, batch_size) -> np.ndarray:
    height, width = batch.shape[1:3]
    widths = _pad_widths(height, width, multiple)
    pixels = _run(generator, _reflect(batch, widths), paper_mode, batch_size)
    return _crop(pixels, widths, height, width)


def _translate_tiled(generator, image, multiple, tile, overlap, paper_mode,
                     batch_size) -> np.ndarray:
    from zoo.gan.tiling import blend_tiles, plan_tiles

    height, width = image.shape[:2]
    widths = _pad_widths(height, width, multiple)
    padded = _reflect(image[None], widths)[0]
    tiles = plan_tiles(padded.shape[0], padded.shape[1], tile, overlap)
    crops = np.stack([padded[top:top + rows, left:left + columns]
                      for (top, left, rows, columns), _ in tiles])
    blended = blend_tiles(_run(generator, crops, paper_mode, batch_size), tiles,
                          padded.shape[0], padded.shape[1])
    return _crop(blended[None], widths, height, width)[0]


def _run(generator, batch: np.ndarray, paper_mode: bool, batch_size: int) -> np.ndarray:
    """The generator's output for uint8 images, as float32 on the 0..255 scale."""
    takes_uint8 = _takes_uint8(generator)
    if not takes_uint8:
        batch = batch.astype(np.float32) * _TO_UNIT_SCALE + _TO_UNIT_OFFSET
    if paper_mode:
        # One at a time, as the paper's batch size of 1: BatchNorm normalises
        # each image with its own statistics.
        with _batchnorm_statistics_kept(generator):
            outputs = [np.asarray(generator(batch[i:i + 1], training=True))
                       for i in range(len(batch))]
    else:
        outputs = [np.asarray(generator(batch[i:i + batch_size], training=False))
                   for i in range(0, len(batch), batch_size)]
    output = np.concatenate(outputs).astype(np.float32)
    if takes_uint8:
        return output
    return output * _TO_PIXEL_SCALE + _TO_PIXEL_OFFSET


def _quantise(pixels: np.ndarray) -> np.ndarray:
    """round(clip(pixels, 0, 255)), halves up, as `uint8_model`'s layers do it."""
    clipped = np.clip(pixels.astype(np.float32), np.float32(0), _MAX_PIXEL)
    return np.floor(clipped * np.float32(1.0) + _HALF).astype(np.uint8)


@contextlib.contextmanager
def _batchnorm_statistics_kept(model):
    """Put BatchNorm's moving statistics back after calls with training=True,
    which would otherwise move them towards the test images' statistics."""
    variables = [variable for layer in _flat_layers(model)
                 if isinstance(layer, keras.layers.BatchNormalization)
                 for variable in (layer.moving_mean, layer.moving_variance)]
    values = [variable.numpy() for variable in variables]
    try:
        yield
    finally:
        for variable, value in zip(variables, values):
            variable.assign(value)
