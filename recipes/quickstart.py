"""Quickstart: build a zoo classifier, save it, and load it back with plain Keras.

What it shows:
1. the backbone registry (`zoo.list_backbones`, `zoo.backbone_info`);
2. `zoo.create_classifier`: raw uint8 images in, class probabilities out,
   the backbone's preprocessing built into the model;
3. saving to a `.keras` file and loading it in a fresh Python process that
   cannot import zoo, with `safe_mode=True`, and checking that both give the
   same predictions.

Needs: nothing beyond zoo's dependencies. ImageNet weights are used when
they are in the Keras cache or can be downloaded; offline, the recipe says
so and builds the same model with random weights.

    python recipes/quickstart.py [--backbone mobilenet_v3_small] [--out build/quickstart]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from zoo.quiet import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads; --verbose keeps its logs

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.recipe_run import run_recipe  # noqa: E402

# Classes and image side: small, so that the recipe runs in seconds on a CPU.
NUM_CLASSES = 5
IMAGE_SIZE = 96

# The loader runs in a separate process where zoo is made unimportable.
LOADER = textwrap.dedent(
    """
    import json, sys
    sys.modules["zoo"] = None
    import keras, numpy as np
    model = keras.models.load_model(sys.argv[1], safe_mode=True)
    probabilities = model.predict(np.load(sys.argv[2]), verbose=0)
    print(json.dumps(probabilities.tolist()))
    """
)


def build(backbone: str):
    """A classifier with ImageNet weights if they can be had, else random ones."""
    try:
        return zoo.create_classifier(backbone, NUM_CLASSES, input_shape=IMAGE_SIZE), "imagenet"
    except zoo.WeightsUnavailableError as exc:
        print(f"\n[weights] {exc}\n[weights] Continuing with random weights (weights=None).\n")
        return zoo.create_classifier(backbone, NUM_CLASSES, weights=None,
                                     input_shape=IMAGE_SIZE), "random"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build, save and reload a zoo classifier.")
    parser.add_argument("--backbone", default="mobilenet_v3_small",
                        help="a name from `zoo list` (default: mobilenet_v3_small)")
    parser.add_argument("--out", default="build/quickstart", help="output folder")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up logs (hidden by default)")
    args = parser.parse_args(argv)

    # 1. The registry.
    print(f"zoo {zoo.__version__}: {len(zoo.list_backbones())} backbones, e.g. "
          f"{', '.join(zoo.list_backbones('res*')[:3])}, ...")
    spec = zoo.backbone_info(args.backbone)
    print(f"{spec.name}: preprocessing '{spec.preprocessing}', sizes {spec.min_size}.."
          f"{spec.default_size}, {spec.feature_dim} features, blocks {', '.join(spec.block_names)}")

    # 2. The classifier.
    model, weights = build(spec.name)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(f"Built '{model.name}' with {weights} weights: {model.count_params():,} parameters, "
          f"{trainable:,} trainable (the head; the backbone is frozen).")

    # Real pixels: a few photos that ship with scikit-image.
    from skimage import data, transform  # noqa: E402 (only this step needs it)

    photos = [data.astronaut(), data.chelsea(), data.coffee()]
    images = np.stack([
        (transform.resize(p, (IMAGE_SIZE, IMAGE_SIZE), anti_aliasing=True) * 255).astype("uint8")
        for p in photos
    ])
    # The head is untrained, so these probabilities mean nothing yet: they
    # are only the reference that the reloaded model must reproduce.
    probabilities = model.predict(images, verbose=0)

    # 3. Save, then load without zoo.
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_path, images_path = out / f"{spec.name}_classifier.keras", out / "images.npy"
    model.save(model_path)
    np.save(images_path, images)
    result = subprocess.run([sys.executable, "-c", LOADER, str(model_path), str(images_path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"Loading {model_path} without zoo failed:\n{result.stderr[-2000:]}")
    reloaded = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    difference = float(np.abs(reloaded - probabilities).max())
    print(f"Saved {model_path} ({model_path.stat().st_size / 1e6:.1f} MB) and loaded it in a "
          f"process without zoo (safe_mode=True): max difference {difference:.2e} over "
          f"{len(images)} images.")
    if difference > 1e-5:
        sys.exit("The reloaded model predicts differently: this is a bug, please report it.")


if __name__ == "__main__":
    run_recipe(main, "quickstart")
