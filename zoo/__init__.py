"""zoo: a Keras 3 applied model zoo.

    >>> import zoo
    >>> zoo.list_backbones("res*")
    >>> model = zoo.create_classifier("resnet50", num_classes=5)

The registry and errors import at once; names that need Keras (and so
TensorFlow, a few seconds to import) load on first use, which keeps
`zoo list` and `zoo --version` quick.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes
from importlib.metadata import PackageNotFoundError, version as _version

from zoo.backbones import (
    BACKBONES,
    BackboneSpec,
    Block,
    backbone_info,
    layers_by_block,
    list_backbones,
)
from zoo.errors import UnknownBackboneError, WeightsError, WeightsUnavailableError, ZooError
from zoo.weights import (
    fetch_imagenet_weights,
    imagenet_weights_path,
    imagenet_weights_status,
    load_backbone_weights,
)

try:
    __version__ = _version("keras-applied-zoo")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.classification.classifier import (  # noqa: F401
        create_backbone,
        create_classifier,
        get_backbone,
        unfreeze_last_blocks,
    )

# Public name -> module that defines it, imported on first access.
_LAZY = {
    "create_backbone": "zoo.classification.classifier",
    "create_classifier": "zoo.classification.classifier",
    "get_backbone": "zoo.classification.classifier",
    "unfreeze_last_blocks": "zoo.classification.classifier",
}

__getattr__, __dir__ = lazy_attributes("zoo", globals(), _LAZY)


__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "Block",
    "UnknownBackboneError",
    "WeightsError",
    "WeightsUnavailableError",
    "ZooError",
    "__version__",
    "backbone_info",
    "fetch_imagenet_weights",
    "imagenet_weights_path",
    "imagenet_weights_status",
    "layers_by_block",
    "list_backbones",
    "load_backbone_weights",
    *_LAZY,
]
