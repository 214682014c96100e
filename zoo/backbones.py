"""The backbone registry: one record of facts per pretrained Keras Application,
and one for zoo's own SmallResNet (zoo/small_resnet.py: no ImageNet weights,
for training from scratch on small images).

Each record says how to build the backbone (its `keras.applications`
constructor), how its ImageNet weights expect images to be preprocessed, the
input sizes it accepts, the width of its pooled features, where Keras keeps
its ImageNet weights, and how its layers group into blocks (stages), so that
fine-tuning can say "unfreeze the last N blocks".

The numbers (feature width, parameter count, block boundaries) are measured
from the Keras models; `tests/test_backbones.py` builds every backbone and
checks each record against the real model.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field

from zoo.errors import UnknownBackboneError

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
# The family of zoo's own backbones (not a keras.applications submodule).
ZOO_FAMILY = "zoo"


@dataclass(frozen=True)
class WeightsFile:
    """One ImageNet weights file as `keras.applications` downloads it."""

    file_name: str
    file_hash: str  # md5 (32 hex digits) or sha256 (64), as Keras checks it
    origin: str


@dataclass(frozen=True)
class Block:
    """A stage of a backbone: it ends with (and includes) `last_layer`.

    A block holds every layer after the previous block's last layer, up to
    and including its own. Layers after the last block's end (a final
    activation or pooling) belong to the last block.
    """

    name: str
    last_layer: str


@dataclass(frozen=True)
class BackboneSpec:
    """Everything zoo knows about one backbone.

    Args:
        name: zoo's snake_case name, e.g. `"resnet50"`.
        family: the `keras.applications` submodule, e.g. `"resnet"`; its
            `preprocess_input` is the reference for `preprocessing`.
        constructor: the `keras.applications` function, e.g. `"ResNet50"`;
            for family "zoo", the function in zoo/small_resnet.py.
        preprocessing: how pixels in 0..255 are mapped before the backbone:
            `"caffe"` (RGB to BGR, minus the ImageNet mean), `"tf"` (to
            -1..1), `"torch"` (to 0..1, then ImageNet mean and std), or
            `"none"` (the backbone carries its own preprocessing layers).
        default_size: the input size its ImageNet weights were trained at.
        min_size: the smallest input side Keras accepts.
        feature_dim: width of the globally pooled features.
        params: parameter count without the top, pooled.
        weights: the ImageNet weights files, with and without the top; None
            for zoo's own backbone, which has none.
        blocks: the stages, first to last.
    """

    name: str
    family: str
    constructor: str
    preprocessing: str
    default_size: int
    min_size: int
    feature_dim: int
    params: int
    weights: WeightsFile | None
    weights_notop: WeightsFile | None
    blocks: tuple[Block, ...] = field(repr=False)

    @property
    def has_imagenet_weights(self) -> bool:
        return self.weights_notop is not None

    @property
    def constructor_path(self) -> str:
        """Where the constructor lives, e.g. "keras.applications.ResNet50"."""
        if self.family == ZOO_FAMILY:
            return f"zoo.small_resnet.{self.constructor}"
        return f"keras.applications.{self.constructor}"

    @property
    def keras_constructor(self):
        """The function that builds this backbone (`keras.applications`' own,
        or zoo's for family "zoo")."""
        if self.family == ZOO_FAMILY:
            from zoo import small_resnet

            return getattr(small_resnet, self.constructor)
        import keras

        return getattr(keras.applications, self.constructor)

    @property
    def block_names(self) -> tuple[str, ...]:
        return tuple(block.name for block in self.blocks)

    def build(self, input_shape=None, weights=None, pooling="avg", include_top=False, **kwargs):
        """Build the bare `keras.applications` model (no zoo preprocessing).

        `weights` is passed through to Keras: `None`, `"imagenet"` or a path.
        """
        if input_shape is None:
            input_shape = (self.default_size, self.default_size, 3)
        return self.keras_constructor(
            include_top=include_top,
            weights=weights,
            input_shape=tuple(input_shape),
            pooling=None if include_top else pooling,
            **kwargs,
        )

    def to_dict(self) -> dict:
        """A plain, JSON-friendly view of the record."""
        return {
            "name": self.name,
            "family": self.family,
            "constructor": self.constructor_path,
            "preprocessing": self.preprocessing,
            "default_size": self.default_size,
            "min_size": self.min_size,
            "feature_dim": self.feature_dim,
            "params": self.params,
            "weights": _weights_dict(self.weights),
            "weights_notop": _weights_dict(self.weights_notop),
            "blocks": [{"name": b.name, "last_layer": b.last_layer} for b in self.blocks],
        }


def _weights_dict(record: WeightsFile | None) -> dict | None:
    if record is None:
        return None
    return {"file_name": record.file_name, "file_hash": record.file_hash,
            "origin": record.origin}


def _weights(folder, top_file, top_hash, notop_file, notop_hash):
    base = f"{KERAS_WEIGHTS_URL}{folder}/"
    return {
        "weights": WeightsFile(top_file, top_hash, base + top_file),
        "weights_notop": WeightsFile(notop_file, notop_hash, base + notop_file),
    }


def _classic_weights(folder, stem, top_hash, notop_hash):
    """The `<stem>_weights_tf_dim_ordering_tf_kernels[_notop].h5` naming."""
    top = f"{stem}_weights_tf_dim_ordering_tf_kernels.h5"
    notop = f"{stem}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    return _weights(folder, top, top_hash, notop, notop_hash)


def _blocks(*pairs):
    return tuple(Block(name, last) for name, last in pairs)


_RESNET_BLOCKS = {
    # (conv3 last block, conv4 last block) for the 50, 101 and 152 layer variants.
    50: (4, 6),
    101: (4, 23),
    152: (8, 36),
}


def _resnet_blocks(depth):
    conv3, conv4 = _RESNET_BLOCKS[depth]
    return _blocks(
        ("stem", "pool1_pool"),
        ("conv2", "conv2_block3_out"),
        ("conv3", f"conv3_block{conv3}_out"),
        ("conv4", f"conv4_block{conv4}_out"),
        ("conv5", "conv5_block3_out"),
    )


def _efficientnet_v2_blocks(stage_ends):
    return _blocks(
        ("stem", "stem_activation"),
        *((f"block{i}", end) for i, end in enumerate(stage_ends, start=1)),
        ("top", "top_bn"),
    )


def _mobilenet_v3_blocks(ends):
    # ends[k] is the last layer of inverted-residual block k: "_add" where the
    # block has a residual connection, "_project_bn" where it has none.
    names = ["expanded_conv"] + [f"expanded_conv_{k}" for k in range(1, len(ends))]
    return _blocks(
        ("stem", "conv_bn"),
        *((name, f"{name}_{end}") for name, end in zip(names, ends)),
        ("top", "conv_1_bn"),
    )


def _spec(name, family, constructor, preprocessing, default_size, min_size,
          feature_dim, params, blocks, **weights):
    return BackboneSpec(
        name=name,
        family=family,
        constructor=constructor,
        preprocessing=preprocessing,
        default_size=default_size,
        min_size=min_size,
        feature_dim=feature_dim,
        params=params,
        blocks=blocks,
        **weights,
    )


_SPECS = [
    # ResNet (v1): caffe preprocessing, 32 px minimum.
    _spec("resnet50", "resnet", "ResNet50", "caffe", 224, 32, 2048, 23_587_712,
          _resnet_blocks(50),
          **_classic_weights("resnet", "resnet50", "2cb95161c43110f7111970584f804107",
                             "4d473c1dd8becc155b73f8504c6f6626")),
    _spec("resnet101", "resnet", "ResNet101", "caffe", 224, 32, 2048, 42_658_176,
          _resnet_blocks(101),
          **_classic_weights("resnet", "resnet101", "f1aeb4b969a6efcfb50fad2f0c20cfc5",
                             "88cf7a10940856eca736dc7b7e228a21")),
    _spec("resnet152", "resnet", "ResNet152", "caffe", 224, 32, 2048, 58_370_944,
          _resnet_blocks(152),
          **_classic_weights("resnet", "resnet152", "100835be76be38e30d865e96f2aaae62",
                             "ee4c566cf9a93f14d82f913c2dc6dd0c")),
    # ResNet v2: pre-activation blocks, tf preprocessing.
    _spec("resnet50_v2", "resnet_v2", "ResNet50V2", "tf", 224, 32, 2048, 23_564_800,
          _resnet_blocks(50),
          **_classic_weights("resnet", "resnet50v2", "3ef43a0b657b3be2300d5770ece849e0",
                             "fac2f116257151a9d068a22e544a4917")),
    _spec("resnet101_v2", "resnet_v2", "ResNet101V2", "tf", 224, 32, 2048, 42_626_560,
          _resnet_blocks(101),
          **_classic_weights("resnet", "resnet101v2", "6343647c601c52e1368623803854d971",
                             "c0ed64b8031c3730f411d2eb4eea35b5")),
    _spec("resnet152_v2", "resnet_v2", "ResNet152V2", "tf", 224, 32, 2048, 58_331_648,
          _resnet_blocks(152),
          **_classic_weights("resnet", "resnet152v2", "a49b44d1979771252814e80f8ec446f9",
                             "ed17cf2e0169df9d443503ef94b23b33")),
    # Inception: the stem has no stable layer names, so it joins the first block.
    _spec("inception_v3", "inception_v3", "InceptionV3", "tf", 299, 75, 2048, 21_802_784,
          _blocks(*((f"mixed{k}", f"mixed{k}") for k in range(11))),
          **_classic_weights("inception_v3", "inception_v3",
                             "9a0d58056eeedaa3f26cb7ebd46da564",
                             "bcbd6486424b2319ff4ef7d526e38f63")),
    _spec("inception_resnet_v2", "inception_resnet_v2", "InceptionResNetV2", "tf", 299, 75,
          1536, 54_336_736,
          _blocks(("stem", "mixed_5b"), ("block35", "block35_10_ac"),
                  ("reduction_a", "mixed_6a"), ("block17", "block17_20_ac"),
                  ("reduction_b", "mixed_7a"), ("block8", "conv_7b_ac")),
          **_classic_weights("inception_resnet_v2", "inception_resnet_v2",
                             "e693bd0210a403b3192acc6073ad2e96",
                             "d19885ff4a710c122648d3b5c3b684e4")),
    # VGG: caffe preprocessing.
    _spec("vgg16", "vgg16", "VGG16", "caffe", 224, 32, 512, 14_714_688,
          _blocks(*((f"block{k}", f"block{k}_pool") for k in range(1, 6))),
          **_classic_weights("vgg16", "vgg16", "64373286793e3c8b2b4e3219cbf3544b",
                             "6d6bbae143d832006294945121d1f1fc")),
    _spec("vgg19", "vgg19", "VGG19", "caffe", 224, 32, 512, 20_024_384,
          _blocks(*((f"block{k}", f"block{k}_pool") for k in range(1, 6))),
          **_classic_weights("vgg19", "vgg19", "cbe5617147190e668d6c5d5026f83318",
                             "253f8cb515780f3b799900260a226db6")),
    # Xception: the entry and exit blocks end in a pooling layer, the middle
    # blocks in their third separable convolution.
    _spec("xception", "xception", "Xception", "tf", 299, 71, 2048, 20_861_480,
          _blocks(("block1", "block1_conv2_act"),
                  *((f"block{k}", f"block{k}_pool" if k in (2, 3, 4, 13)
                     else f"block{k}_sepconv3_bn") for k in range(2, 14)),
                  ("block14", "block14_sepconv2_act")),
          **_classic_weights("xception", "xception", "0a58e3b7378bc2990ea3b43d5981f1f6",
                             "b0042744bf5b25fce3cb969f33bebb97")),
    # EfficientNetV2: preprocessing is inside the Keras model.
    _spec("efficientnet_v2_b0", "efficientnet_v2", "EfficientNetV2B0", "none", 224, 32, 1280,
          5_919_312,
          _efficientnet_v2_blocks(["block1a_project_activation", "block2b_add", "block3b_add",
                                   "block4c_add", "block5e_add", "block6h_add"]),
          **_weights("efficientnet_v2", "efficientnetv2-b0.h5",
                     "21ecbf6da12460d5c40bb2f29ceb2188", "efficientnetv2-b0_notop.h5",
                     "893217f2bb855e2983157299931e43ff")),
    _spec("efficientnet_v2_b1", "efficientnet_v2", "EfficientNetV2B1", "none", 240, 32, 1280,
          6_931_124,
          _efficientnet_v2_blocks(["block1b_add", "block2c_add", "block3c_add", "block4d_add",
                                   "block5f_add", "block6i_add"]),
          **_weights("efficientnet_v2", "efficientnetv2-b1.h5",
                     "069f0534ff22adf035c89e2d9547a9dc", "efficientnetv2-b1_notop.h5",
                     "0e80663031ca32d657f9caa404b6ec37")),
    _spec("efficientnet_v2_b2", "efficientnet_v2", "EfficientNetV2B2", "none", 260, 32, 1408,
          8_769_374,
          _efficientnet_v2_blocks(["block1b_add", "block2c_add", "block3c_add", "block4d_add",
                                   "block5f_add", "block6j_add"]),
          **_weights("efficientnet_v2", "efficientnetv2-b2.h5",
                     "424e49f28180edbde1e94797771950a7", "efficientnetv2-b2_notop.h5",
                     "1dfe2e7a5d45b6632553a8961ea609eb")),
    _spec("efficientnet_v2_b3", "efficientnet_v2", "EfficientNetV2B3", "none", 300, 32, 1536,
          12_930_622,
          _efficientnet_v2_blocks(["block1b_add", "block2c_add", "block3c_add", "block4e_add",
                                   "block5g_add", "block6l_add"]),
          **_weights("efficientnet_v2", "efficientnetv2-b3.h5",
                     "1f1fc43bd98a6e4fd8fdfd551e02c7a0", "efficientnetv2-b3_notop.h5",
                     "f6abf7b5849ac99a89b50dd3fd532856")),
    _spec("efficientnet_v2_s", "efficientnet_v2", "EfficientNetV2S", "none", 384, 32, 1280,
          20_331_360,
          _efficientnet_v2_blocks(["block1b_add", "block2d_add", "block3d_add", "block4f_add",
                                   "block5i_add", "block6o_add"]),
          **_weights("efficientnet_v2", "efficientnetv2-s.h5",
                     "e1d88a8495beba45748fedd0cecbe016", "efficientnetv2-s_notop.h5",
                     "af0682fb74e8c54910f2d4393339c070")),
    # MobileNetV3: preprocessing is inside the Keras model.
    _spec("mobilenet_v3_small", "mobilenet_v3", "MobileNetV3Small", "none", 224, 32, 576,
          939_120,
          _mobilenet_v3_blocks(["project_bn", "project_bn", "add", "project_bn", "add", "add",
                                "project_bn", "add", "project_bn", "add", "add"]),
          **_weights("mobilenet_v3", "weights_mobilenet_v3_small_224_1.0_float.h5",
                     "8768d4c2e7dee89b9d02b2d03d65d862",
                     "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
                     "d3e8ec802a04aa4fc771ee12a9a9b836")),
    _spec("mobilenet_v3_large", "mobilenet_v3", "MobileNetV3Large", "none", 224, 32, 960,
          2_996_352,
          _mobilenet_v3_blocks(["add", "project_bn", "add", "project_bn", "add", "add",
                                "project_bn", "add", "add", "add", "project_bn", "add",
                                "project_bn", "add", "add"]),
          **_weights("mobilenet_v3", "weights_mobilenet_v3_large_224_1.0_float.h5",
                     "59e551e166be033d707958cf9e29a6a7",
                     "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
                     "07fb09a5933dd0c8eaafa16978110389")),
    # ConvNeXt: preprocessing is inside the Keras model.
    _spec("convnext_tiny", "convnext", "ConvNeXtTiny", "none", 224, 32, 768, 27_820_128,
          _blocks(("stem", "convnext_tiny_stem"),
                  ("stage0", "convnext_tiny_stage_0_block_2_identity"),
                  ("stage1", "convnext_tiny_stage_1_block_2_identity"),
                  ("stage2", "convnext_tiny_stage_2_block_8_identity"),
                  ("stage3", "convnext_tiny_stage_3_block_2_identity")),
          **_weights("convnext", "convnext_tiny.h5",
                     "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                     "convnext_tiny_notop.h5",
                     "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1")),
    # DenseNet: torch preprocessing.
    _spec("densenet121", "densenet", "DenseNet121", "torch", 224, 32, 1024, 7_037_504,
          _blocks(("stem", "pool1"), ("conv2", "pool2_pool"), ("conv3", "pool3_pool"),
                  ("conv4", "pool4_pool"), ("conv5", "relu")),
          **_classic_weights("densenet", "densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                             "30ee3e1110167f948a6b9946edeeb738")),
    # zoo's own: small images from scratch (the default when no weights can be had).
    _spec("small_resnet", ZOO_FAMILY, "SmallResNet", "tf", 32, 8, 128, 697_568,
          _blocks(("stem", "stem_relu"), ("stage1", "stage1_block2_out"),
                  ("stage2", "stage2_block2_out"), ("stage3", "stage3_block2_out")),
          weights=None, weights_notop=None),
]

BACKBONES: dict[str, BackboneSpec] = {spec.name: spec for spec in _SPECS}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def list_backbones(pattern: str | None = None) -> list[str]:
    """Names of the registered backbones, in registry order.

    Args:
        pattern: optional shell-style wildcard, e.g. `"res*"` or
            `"*_v2*"`; matching ignores case.

    Example:
        >>> zoo.list_backbones("vgg*")
        ['vgg16', 'vgg19']
    """
    if pattern is None:
        return list(BACKBONES)
    pattern = _normalise(pattern)
    return [name for name in BACKBONES if fnmatch.fnmatchcase(name, pattern)]


def backbone_info(name: str) -> BackboneSpec:
    """The registry record of one backbone.

    Raises:
        UnknownBackboneError: the name is not registered; the message
            suggests the closest registered names.
    """
    if isinstance(name, BackboneSpec):
        return name
    if not isinstance(name, str):
        raise UnknownBackboneError(
            f"A backbone name must be a string such as 'resnet50'. Received: backbone={name!r}"
        )
    key = _normalise(name)
    if key in BACKBONES:
        return BACKBONES[key]
    # Accept Keras's own spelling too ("ResNet50V2" -> "resnet50_v2").
    for spec in BACKBONES.values():
        if key == spec.constructor.lower():
            return spec
    close = difflib.get_close_matches(key, list(BACKBONES), n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownBackboneError(
        f"Unknown backbone {name!r}.{hint} "
        f"Run `zoo list` to see all {len(BACKBONES)} backbones."
    )


def layers_by_block(model, spec) -> list[tuple[str, list]]:
    """Group the layers of a backbone model built from `spec` into its blocks.

    Returns `[(block_name, [layer, ...]), ...]` from first to last block.
    Every layer falls in exactly one block, in the model's layer order.

    Raises:
        ValueError: a block's last layer is missing from the model (the model
            was not built from this spec, or Keras renamed its layers).
    """
    spec = backbone_info(spec)
    index = {layer.name: i for i, layer in enumerate(model.layers)}
    missing = [b.last_layer for b in spec.blocks if b.last_layer not in index]
    if missing:
        raise ValueError(
            f"Model {model.name!r} is not a '{spec.name}' backbone: it lacks the block "
            f"end layer(s) {missing[:3]}."
        )
    groups, start = [], 0
    for i, block in enumerate(spec.blocks):
        last = len(model.layers) - 1 if i == len(spec.blocks) - 1 else index[block.last_layer]
        groups.append((block.name, list(model.layers[start:last + 1])))
        start = last + 1
    return groups
