"""Command-line arguments, checked before any heavy work.

A typo found after the data is read and TensorFlow is loaded costs the person
seconds to minutes for nothing. These checks read only zoo's registry and the
file system, never TensorFlow or the data, so the recipes and `zoo tune` run
them right after parsing. Each failed check raises ArgumentError, whose
message starts with the option it is about; recipes turn it into argparse's
usage error (exit status 2), the `zoo` command prints it the same way.
"""

from __future__ import annotations

import argparse
import os

from zoo.backbones import backbone_info
from zoo.errors import ArgumentError, UnknownBackboneError, ZooError

WEIGHTS_WORDS = ("auto", "imagenet", "none")


def check_backbones(option: str, names, image_size: int | None = None,
                    size_option: str = "--image-size") -> None:
    """Every name is a registered backbone, and image_size suits each of them.

    Args:
        option: the option the names came from, e.g. "--backbone".
        names: one name or several.
        image_size: the input side in pixels, or None to skip that check.
        size_option: the option image_size came from.
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ArgumentError(option, "give at least one backbone name (see `zoo list`).")
    for name in names:
        try:
            spec = backbone_info(name)
        except UnknownBackboneError as exc:
            raise ArgumentError(option, str(exc)) from None
        if image_size is not None and image_size < spec.min_size:
            raise ArgumentError(size_option, f"{image_size} px is below the minimum input "
                                             f"size of {spec.name}, {spec.min_size} px; use "
                                             f"{size_option} {spec.min_size} or more.")


def check_number(option: str, value, low=None, high=None, *, low_open: bool = False,
                 high_open: bool = False) -> None:
    """low <= value <= high, with either end open on request; None: no bound.

    Args:
        option: the option, for the message.
        value: the parsed number.
        low, high: the bounds.
        low_open, high_open: exclude the bound itself.
    """
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = (f"in {left}{low}, {high}{right}" if low is not None and high is not None
                  else (f"{'above' if low_open else 'at least'} {low}" if low is not None
                        else f"{'below' if high_open else 'at most'} {high}"))
        raise ArgumentError(option, f"must be {bounds}. Received: {value!r}.")


def check_source(option: str, source: str, kind: str = "classification") -> None:
    """A folder that exists, tfds:NAME (where the kind of data has one), or an
    embedded set of that kind ("classification", "pairs" or "unpaired")."""
    from zoo.data import embedded
    from zoo.data.sources import resolve_source

    names = {"classification": embedded.EMBEDDED_CLASSIFICATION,
             "pairs": embedded.EMBEDDED_PAIRS, "unpaired": embedded.EMBEDDED_UNPAIRED}[kind]
    try:
        found, _ = resolve_source(source, names, kind)
    except ZooError as exc:
        raise ArgumentError(option, str(exc)) from None
    if found == "tfds" and kind == "pairs":
        raise ArgumentError(option, f"{source!r}: TFDS has no paired-image format zoo can "
                                    f"read. Give a folder of pairs or one of the embedded sets: "
                                    f"{', '.join(names)}.")


def check_classification_source(option: str, source: str) -> None:
    """A folder that exists, tfds:NAME, or an embedded classification set."""
    check_source(option, source, "classification")


def check_weights(option: str, choice) -> None:
    """auto, imagenet, none, or a weights file that exists."""
    if choice is None or str(choice) in WEIGHTS_WORDS:
        return
    if not os.path.isfile(choice):
        found = f"{choice!r} is a folder" if os.path.isdir(choice) else f"no file {choice!r}"
        raise ArgumentError(option, f"{found}. Give {', '.join(WEIGHTS_WORDS)}, or the path "
                                    "of a backbone weights file.")


def parse_checked(parser: argparse.ArgumentParser, argv, check) -> argparse.Namespace:
    """Parse `argv`, then run `check(args)`; a bad argument prints the usage
    error and exits with status 2, before any work."""
    args = parser.parse_args(argv)
    try:
        check(args)
    except ArgumentError as exc:
        parser.error(str(exc))
    return args
