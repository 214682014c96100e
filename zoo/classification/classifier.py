"""`create_classifier()`: preprocessing + pretrained backbone + head, in plain Keras.

The model takes raw RGB images (0..255, uint8 or float), applies the
backbone's own preprocessing, runs the backbone in inference mode (BatchNorm
keeps its moving statistics, as the Keras transfer-learning guide asks) and
ends in a softmax head. Only built-in Keras layers are used, so the saved
model loads with `keras.models.load_model(path, safe_mode=True)` in a project
that does not have zoo installed.
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.backbones import BackboneSpec, backbone_info, layers_by_block
from zoo.classification.config import HEADS, ClassifierConfig
from zoo.preprocessing import apply_preprocessing
from zoo.weights import fetch_imagenet_weights, load_backbone_weights

POOLINGS = ("avg", "max")


def _check_input_shape(spec: BackboneSpec, input_shape):
    if input_shape is None:
        return (spec.default_size, spec.default_size, 3)
    if isinstance(input_shape, int):
        input_shape = (input_shape, input_shape, 3)
    try:
        height, width, channels = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ValueError(
            "input_shape must be (height, width, 3) or a single side length. "
            f"Received: input_shape={input_shape!r}"
        ) from None
    if channels != 3:
        raise ValueError(
            f"zoo classifiers take RGB images, so input_shape must end in 3. "
            f"Received: input_shape={input_shape!r}"
        )
    if min(height, width) < spec.min_size:
        raise ValueError(
            f"Backbone '{spec.name}' needs images of at least {spec.min_size}x{spec.min_size} "
            f"pixels (default {spec.default_size}). Received: input_shape={input_shape!r}"
        )
    return (height, width, channels)


def _check_arguments(num_classes, head, hidden_units, dropout, pooling):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(
            f"num_classes must be an integer of at least 2. Received: num_classes={num_classes!r}"
        )
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}. Received: head={head!r}")
    if head == "mlp" and (not isinstance(hidden_units, int) or hidden_units < 1):
        raise ValueError(
            f"hidden_units must be a positive integer for head='mlp'. "
            f"Received: hidden_units={hidden_units!r}"
        )
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}. Received: pooling={pooling!r}")


def create_backbone(backbone, *, weights="imagenet", input_shape=None, pooling="avg"):
    """Build a backbone (no preprocessing, no head) with the requested weights.

    Args:
        backbone: a registered name (see `zoo.list_backbones()`) or spec.
        weights: `"imagenet"` (Keras cache, downloaded when missing),
            `None` (random initialisation) or a path to a weights file,
            with or without top.
        input_shape: `(height, width, 3)` or a side length; defaults to the
            backbone's default size.
        pooling: `"avg"` or `"max"` global pooling of the last feature map.

    Returns:
        A `keras.Model` mapping preprocessed images to pooled features.
    """
    spec = backbone_info(backbone)
    input_shape = _check_input_shape(spec, input_shape)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}. Received: pooling={pooling!r}")
    if weights == "imagenet":
        # Fetch first (from the Keras cache when it is there) so that being
        # offline gives zoo's error, not a bare URLError from inside Keras.
        weights = fetch_imagenet_weights(spec.name, include_top=False)
    model = spec.build(input_shape, weights=None, pooling=pooling)
    # Named after the registry entry so the backbone can be found again
    # (unfreeze_last_blocks). Renamed afterwards because some constructors
    # (EfficientNetV2) look their architecture up by their `name` argument.
    model.name = spec.name
    if weights is not None:
        load_backbone_weights(model, spec, weights)
    return model


def create_classifier(
    backbone,
    num_classes,
    *,
    weights="imagenet",
    input_shape=None,
    head="linear",
    hidden_units=256,
    dropout=0.2,
    pooling="avg",
    name=None,
):
    """Build a transfer-learning image classifier on a pretrained backbone.

    The returned model takes raw RGB images with values in 0..255 (uint8 or
    float) and returns class probabilities. The backbone's preprocessing is
    built in, and the backbone is frozen: its BatchNorm layers use their
    moving statistics (in Keras 3 a frozen BatchNorm always runs in inference
    mode). Use `unfreeze_last_blocks()` to fine-tune; it keeps BatchNorm frozen.

    Args:
        backbone: a registered backbone name, e.g. `"resnet50"`.
        num_classes: number of classes, at least 2.
        weights: `"imagenet"`, `None`, or a path to a weights file of the
            backbone (with or without top).
        input_shape: `(height, width, 3)` or a side length; defaults to the
            backbone's default size; at least its minimum size.
        head: `"linear"` (dropout, then a dense softmax layer) or `"mlp"`
            (a hidden ReLU layer of `hidden_units` first).
        hidden_units: width of the hidden layer of the `"mlp"` head.
        dropout: dropout rate before the output layer.
        pooling: `"avg"` or `"max"` global pooling of the backbone output.
        name: model name; defaults to `"<backbone>_classifier"`.

    Example:
        >>> model = zoo.create_classifier("resnet50", 5, weights=None,
        ...                               input_shape=(64, 64, 3))
        >>> model.predict(np.zeros((2, 64, 64, 3), "uint8")).shape
        (2, 5)
    """
    spec = backbone_info(backbone)
    input_shape = _check_input_shape(spec, input_shape)
    _check_arguments(num_classes, head, hidden_units, dropout, pooling)
    base = create_backbone(spec, weights=weights, input_shape=input_shape, pooling=pooling)
    base.trainable = False

    images = keras.Input(shape=input_shape, name="images")
    x = apply_preprocessing(images, spec.preprocessing)
    # As the Keras transfer-learning guide does. Note that Keras 3 lets an outer
    # training=True override this, so inference-mode BatchNorm really rests on
    # the BatchNorm layers staying frozen (see unfreeze_last_blocks).
    x = base(x, training=False)
    outputs = apply_head(x, num_classes, head=head, hidden_units=hidden_units, dropout=dropout)
    return keras.Model(images, outputs, name=name or f"{spec.name}_classifier")


def build_classifier(config: ClassifierConfig, num_classes, *, weights="config"):
    """`create_classifier` with a ClassifierConfig's arguments (a TrainConfig's
    `.classifier`, or one read back from a saved model's classifier_config.json).

    Args:
        config: the model's arguments.
        num_classes: number of classes, at least 2.
        weights: "config" for `config.weights`, else what to load instead
            (None: random, e.g. before a checkpoint is restored into it).
    """
    return create_classifier(
        config.backbone, num_classes, weights=config.weights if weights == "config" else weights,
        input_shape=config.image_size, head=config.head, hidden_units=config.hidden_units,
        dropout=config.dropout)


def apply_head(features, num_classes, *, head="linear", hidden_units=256, dropout=0.2):
    """The classification head on pooled features (a symbolic tensor).

    Layer names are fixed (`head_hidden`, `head_dropout`, `predictions`) so
    that a head trained on its own, on cached features, can hand its weights
    to a full classifier.
    """
    _check_arguments(num_classes, head, hidden_units, dropout, "avg")
    x = features
    if head == "mlp":
        x = layers.Dense(hidden_units, activation="relu", name="head_hidden")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    # float32 output keeps the softmax stable under mixed precision.
    return layers.Dense(num_classes, activation="softmax", dtype="float32",
                        name="predictions")(x)


def get_backbone(model):
    """The backbone sub-model inside a classifier made by `create_classifier`."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            return layer
    raise ValueError(f"Model {model.name!r} holds no backbone sub-model.")


def _head_layers(model):
    """The layers after the backbone: the head that phase 1 trains."""
    backbone = get_backbone(model)
    index = model.layers.index(backbone)
    return model.layers[index + 1:]


def feature_extractor(model):
    """The classifier up to its pooled backbone features."""
    first_head_layer = _head_layers(model)[0]
    return keras.Model(model.input, first_head_layer.input, name="feature_extractor")


def head_model(model):
    """A model of the classifier's own head layers (shared weights) on features."""
    backbone = get_backbone(model)
    features = keras.Input((backbone.output_shape[-1],), name="features")
    x = features
    for layer in _head_layers(model):
        x = layer(x)
    return keras.Model(features, x, name="head")


def unfreeze_last_blocks(model, num_blocks: int, *, train_batchnorm: bool = False) -> list[str]:
    """Make the last `num_blocks` blocks of a classifier's backbone trainable.

    Blocks are the stages the registry records for the backbone. BatchNorm
    layers stay frozen, so they keep using their moving statistics while the
    rest of those blocks fine-tunes. `num_blocks=0` freezes the whole
    backbone again. Recompile the model afterwards, as Keras requires.

    `train_batchnorm=True` trains BatchNorm too (batch statistics in
    training): right when training from scratch, wrong when fine-tuning
    pretrained weights on little data.

    Returns:
        The names of the backbone layers that are now trainable.
    """
    backbone = get_backbone(model)
    spec = backbone_info(backbone.name)
    if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or not (
            0 <= num_blocks <= len(spec.blocks)):
        raise ValueError(
            f"num_blocks must be an integer from 0 to {len(spec.blocks)} for '{spec.name}' "
            f"(blocks: {', '.join(spec.block_names)}). Received: num_blocks={num_blocks!r}"
        )
    backbone.trainable = True  # lets the per-layer flags below take effect
    unfrozen = []
    groups = layers_by_block(backbone, spec)
    chosen = groups[len(groups) - num_blocks:] if num_blocks else []
    chosen_layers = {id(layer) for _, block_layers in chosen for layer in block_layers}
    for layer in backbone.layers:
        trainable = id(layer) in chosen_layers and (
            train_batchnorm or not isinstance(layer, layers.BatchNormalization))
        layer.trainable = trainable
        if trainable and layer.weights:
            unfrozen.append(layer.name)
    if not unfrozen:
        backbone.trainable = False
    return unfrozen
