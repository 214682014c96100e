"""`zoo translate`: run a saved image-to-image generator on image files.

    zoo translate MODEL INPUT... --out DIR [--direction AtoB|BtoA] [--tile N]
                  [--overlap N] [--overwrite]

MODEL is a `.keras` file, loaded with safe_mode on: a `uint8_model` (uint8
in and out) or a plain float generator ([-1, 1] in, tanh out), told apart by
its input dtype. It may also be the folder a CycleGAN run saves its two
generators in (`generator_AtoB.keras`, `generator_BtoA.keras`); --direction
picks one. INPUT are image files and folders (walked recursively as
`zoo predict` walks them; hidden files are skipped). Each image, whatever
its size, is written to DIR as a PNG named after it: `photo.jpg` becomes
`DIR/photo.png`, and `folder/sub/a.jpg` given as `folder` becomes
`DIR/sub/a.png`.

Before any image is read, an existing output (without --overwrite) or two
inputs with the same output name stop the command. An unreadable image is
reported, skipped and counted; the others are still written, and the exit
status is then 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from zoo.errors import TranslateError
from zoo.gan.cyclegan import GENERATOR_FILES


def generator_file(model: str, direction: str | None) -> str:
    """The .keras file MODEL and --direction name.

    Raises:
        TranslateError: MODEL is missing, is a folder without that
            direction's generator, or is one file while --direction is given.
    """
    if os.path.isdir(model):
        chosen = GENERATOR_FILES[direction or "AtoB"]
        path = os.path.join(model, chosen)
        if not os.path.isfile(path):
            raise TranslateError(
                f"MODEL '{model}' is a folder without {chosen}. Pass a .keras file, or the "
                f"folder a CycleGAN run saved its generators in "
                f"({', '.join(GENERATOR_FILES.values())}).")
        return path
    if not os.path.isfile(model):
        raise TranslateError(f"MODEL '{model}' does not exist. Pass a .keras file saved with "
                             "model.save('name.keras'), or a CycleGAN run's generators folder.")
    if direction is not None:
        raise TranslateError(f"--direction {direction}: MODEL '{model}' is one generator. "
                             f"--direction picks one of the two in a CycleGAN run's folder "
                             f"({', '.join(GENERATOR_FILES.values())}).")
    return model


def add_commands(subparsers):
    """Add `translate` to the `zoo` command's subparsers.

    Args:
        subparsers: what `parser.add_subparsers()` returned.

    Returns:
        The `translate` parser.
    """
    translate = subparsers.add_parser(
        "translate", help="translate images with a saved image-to-image generator",
        description="Translate images of any size with a saved generator (a .keras file: a "
                    "uint8 model from zoo.gan.uint8_model or a float generator) and write "
                    "one PNG per image into --out, named after the input.")
    translate.add_argument("model", metavar="MODEL",
                           help=".keras file of the generator, or the folder of a CycleGAN "
                                "run's two generators")
    translate.add_argument("inputs", nargs="+", metavar="INPUT",
                           help="image files and folders (searched recursively; hidden files "
                                "are skipped)")
    translate.add_argument("--out", required=True, metavar="DIR",
                           help="folder for the PNGs (created if missing)")
    translate.add_argument("--direction", choices=sorted(GENERATOR_FILES), default=None,
                           help="with a CycleGAN generators folder: translate A to B "
                                "(default) or B to A")
    translate.add_argument("--tile", type=_positive_int, default=None, metavar="N",
                           help="translate large images in N x N tiles, blended where they "
                                "overlap; N must be a multiple of the model's down-sampling "
                                "factor (256 for a 256-px U-Net)")
    translate.add_argument("--overlap", type=_non_negative_int, default=None, metavar="N",
                           help="pixels neighbouring tiles share (default: a quarter of --tile)")
    translate.add_argument("--paper-mode", action="store_true",
                           help="run as the Pix2Pix paper tests: dropout on, BatchNorm with "
                                "each image's own statistics (outputs vary from run to run)")
    translate.add_argument("--overwrite", action="store_true",
                           help="replace PNGs that already exist in --out")
    translate.set_defaults(func=_cmd_translate)
    return translate


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {text!r}")
    return value


def _cmd_translate(args) -> int:
    model_file = generator_file(args.model, args.direction)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise TranslateError(f"--out '{args.out}' is a file; pass a folder.")
    jobs = plan_outputs(args.inputs, args.out)
    if not jobs:
        raise TranslateError(f"INPUT {' '.join(args.inputs)}: no image files found.")
    _check_outputs(jobs, args.out, args.overwrite)

    model = load_generator(model_file)
    from zoo.gan.inference import downsampling_factor, translate

    factor = downsampling_factor(model)
    if args.tile is not None and args.tile % factor:
        raise TranslateError(f"--tile {args.tile} must be a multiple of {factor}, the model's "
                             f"down-sampling factor (e.g. --tile {factor * 2}).")
    if args.overlap is not None and (args.tile is None or args.overlap >= args.tile):
        raise TranslateError("--overlap needs --tile and must be smaller than it.")

    from zoo.data.images import UnusableImage, load_rgb

    failed = 0
    for source, target in jobs:
        try:
            image = _as_array(load_rgb(source))
        except UnusableImage as exc:
            failed += 1
            print(f"zoo translate: skipped {source}: {exc}", file=sys.stderr)
            continue
        output = translate(model, image, multiple=factor, tile=args.tile, overlap=args.overlap,
                           paper_mode=args.paper_mode)
        _write_png(output, target)
        print(target)
    written = len(jobs) - failed
    print(f"zoo translate: wrote {written} image{'s' * (written != 1)} to {args.out}",
          file=sys.stderr)
    if failed:
        raise TranslateError(f"{failed} of {len(jobs)} input images could not be read (listed "
                             "above); the others were written.")
    return 0


def plan_outputs(inputs, out_dir: str) -> list[tuple[str, str]]:
    """(input file, output PNG) for every image the INPUT arguments name.

    Raises:
        TranslateError: an INPUT does not exist, or two inputs would be
            written to the same PNG.
    """
    from zoo.data.image_files import collect_image_files

    jobs, seen_inputs, sources_of = [], set(), {}
    for root in inputs:
        root = os.fspath(root)
        if not os.path.exists(root):
            raise TranslateError(f"INPUT '{root}' does not exist.")
        for source in collect_image_files([root]):
            key = os.path.realpath(source)
            if key in seen_inputs:
                continue
            seen_inputs.add(key)
            name = os.path.relpath(source, root) if os.path.isdir(root) else \
                os.path.basename(source)
            target = os.path.join(out_dir, os.path.splitext(name)[0] + ".png")
            if target in sources_of:
                raise TranslateError(
                    f"INPUT '{sources_of[target]}' and '{source}' would both be written to "
                    f"'{target}'; rename one or translate them into different --out folders.")
            sources_of[target] = source
            jobs.append((source, target))
    return jobs


def load_generator(path: str):
    """Load a `.keras` generator with safe_mode on and check it takes images.

    Raises:
        TranslateError: the file is not a Keras model, or the model does not
            take one (batch, height, width, 3) image input.
    """
    import keras

    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise TranslateError(
            f"MODEL '{path}' could not be loaded as a Keras model ({type(exc).__name__}: "
            f"{first_line}). Pass a .keras file saved with model.save('name.keras').") from None
    inputs = getattr(model, "inputs", None) or []
    shape = tuple(inputs[0].shape) if len(inputs) == 1 else None
    if shape is None or len(shape) != 4 or shape[-1] not in (3, None):
        raise TranslateError(f"MODEL '{path}' takes inputs {[tuple(t.shape) for t in inputs]}; "
                             "zoo translate needs one (batch, height, width, 3) image input.")
    return model


def _check_outputs(jobs, out_dir: str, overwrite: bool) -> None:
    if overwrite:
        return
    existing = [target for _, target in jobs if os.path.exists(target)]
    if existing:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise TranslateError(f"--out '{out_dir}': '{existing[0]}'{more} exist already; pass "
                             "--overwrite to replace them.")


def _as_array(image):
    import numpy as np

    return np.asarray(image, dtype=np.uint8)


def _write_png(pixels, target: str) -> None:
    from PIL import Image

    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    # Written whole or not at all: a crash leaves no half PNG behind.
    partial = target + ".partial"
    try:
        image.save(partial, format="PNG")
        os.replace(partial, target)
    except OSError as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise TranslateError(f"--out: cannot write '{target}' ({exc.strerror or exc}).") \
            from None
