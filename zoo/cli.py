"""The `zoo` command.

    zoo --version
    zoo list [PATTERN]
    zoo info NAME [--json]
    zoo weights fetch NAME... [--include-top]
    zoo weights path NAME [--include-top]
    zoo data check PATH [--kind classification|pairs|unpaired]
    zoo predict MODEL IMAGE_OR_FOLDER... [--top-k K] [--csv OUT]
    zoo translate MODEL INPUT... --out DIR [--tile N] [--overwrite]
    zoo ui [--tracking-uri URI] [--port 5000]
    zoo tracking flush FILE...
    zoo run RECIPE [ARGS...]
    zoo tune [--tuner random|hyperband|bayesian] [--max-trials N] ...

Each command group lives in a function that adds its parser; heavy imports
(TensorFlow) happen inside the handlers, so `zoo list` answers at once.
Errors zoo raises on purpose are printed as one message on stderr with exit
status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

import zoo
from zoo.backbones import BACKBONES, ZOO_FAMILY, backbone_info, list_backbones
from zoo.errors import ZooError
from zoo.quiet import quiet_tensorflow
from zoo.text import format_table

EXIT_USAGE = 2


def _human_count(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}K"


# ---------------------------------------------------------------------------
# zoo list / zoo info


def _cmd_list(args) -> int:
    names = list_backbones(args.pattern)
    if not names:
        print(f"No backbone matches {args.pattern!r}. Run `zoo list` to see them all.",
              file=sys.stderr)
        return 1
    rows = []
    for name in names:
        spec = BACKBONES[name]
        rows.append([name, str(spec.default_size), str(spec.min_size), str(spec.feature_dim),
                     _human_count(spec.params), spec.preprocessing, str(len(spec.blocks))])
    print(format_table(rows, ["name", "default", "min", "features", "params", "preprocessing",
                              "blocks"]))
    return 0


def _cmd_info(args) -> int:
    from zoo.weights import imagenet_weights_status

    spec = backbone_info(args.name)
    record = spec.to_dict()
    record["cache"] = {
        kind: {"path": str(status.path), "present": status.present, "valid": status.valid}
        for kind, status in (("notop", imagenet_weights_status(spec.name, False)),
                             ("top", imagenet_weights_status(spec.name, True)))
    } if spec.has_imagenet_weights else None
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    print(f"{spec.name}  ({spec.constructor_path})")
    reference = ("" if spec.family == ZOO_FAMILY
                 else f"  (keras.applications.{spec.family}.preprocess_input)")
    print(f"  preprocessing   {spec.preprocessing}{reference}")
    print(f"  input size      default {spec.default_size}, minimum {spec.min_size}")
    print(f"  features        {spec.feature_dim} (globally pooled)")
    print(f"  parameters      {spec.params:,} without top")
    print(f"  blocks          {len(spec.blocks)}: {', '.join(spec.block_names)}")
    if not spec.has_imagenet_weights:
        print("  weights         none: zoo's own backbone, trained from scratch")
        return 0
    for kind, label in (("notop", "weights (notop)"), ("top", "weights (top)")):
        entry = record["cache"][kind]
        state = "valid" if entry["valid"] else ("corrupt" if entry["present"] else "missing")
        print(f"  {label:<15} {entry['path']}  [{state}]")
    return 0


# ---------------------------------------------------------------------------
# zoo weights


def _cmd_weights_fetch(args) -> int:
    from zoo.weights import fetch_imagenet_weights, imagenet_weights_status

    failures = 0
    for name in args.names:
        try:
            spec = backbone_info(name)
            kinds = [False, True] if args.include_top else [False]
            for include_top in kinds:
                cached = imagenet_weights_status(spec.name, include_top).valid
                path = fetch_imagenet_weights(spec.name, include_top)
                print(f"{spec.name}: {path} ({'already cached' if cached else 'downloaded'})")
        except ZooError as exc:
            failures += 1
            print(f"zoo: error: {exc}", file=sys.stderr)
    return EXIT_USAGE if failures else 0


def _cmd_weights_path(args) -> int:
    from zoo.weights import imagenet_weights_status

    status = imagenet_weights_status(args.name, args.include_top)
    print(status.describe())
    return 0 if status.valid else 1


def _add_weights_commands(subparsers):
    weights = subparsers.add_parser(
        "weights", help="fetch ImageNet weights or show where they are cached",
        description="ImageNet weights live in the Keras cache ($KERAS_HOME/models, else "
                    "~/.keras/models). Fetch them on a connected machine and copy the files "
                    "to the same place on an offline one.")
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="download weights into the Keras cache",
                               description="Download ImageNet weights into the Keras cache.")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="backbone names")
    fetch.add_argument("--include-top", action="store_true",
                       help="also fetch the file with the ImageNet classifier layers")
    fetch.set_defaults(func=_cmd_weights_fetch)
    path = actions.add_parser(
        "path", help="print where the weights file is expected and its state",
        description="Print the expected path of the weights file and whether it is present "
                    "and passes its hash check. Exit status 0 when valid, 1 otherwise.")
    path.add_argument("name", metavar="NAME", help="backbone name")
    path.add_argument("--include-top", action="store_true",
                      help="the file with the ImageNet classifier layers")
    path.set_defaults(func=_cmd_weights_path)


# ---------------------------------------------------------------------------
# zoo run


def _cmd_run(args) -> int:
    import runpy

    from zoo.recipe_files import find_recipes, recipe_folders, recipe_summary

    recipes = find_recipes()
    if args.list:
        width = max((len(name) for name in recipes), default=0)
        for name, path in recipes.items():
            print(f"{name:<{width}}  {recipe_summary(path)}")
        return 0
    if args.recipe not in recipes:
        where = " or ".join(str(folder) for folder in recipe_folders()) or "no recipe folder"
        named = f"No recipe named {args.recipe!r} in {where}" if args.recipe else "Name a recipe"
        raise ZooError(f"{named}. Recipes: {', '.join(recipes) or 'none found'} "
                       "(`zoo run --list` describes them).")
    path = recipes[args.recipe]
    sys.argv = [str(path), *args.recipe_args]
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
            return 1
        return exit_.code or 0
    return 0


def _add_run_command(subparsers):
    run = subparsers.add_parser(
        "run", help="run a recipe, e.g. zoo run classify --data photos/",
        description="Run the recipe RECIPE (recipes/RECIPE.py in a checkout, zoo/recipes/ in "
                    "an installed zoo) with the arguments that follow; `zoo run RECIPE --help` "
                    "shows the recipe's own options.")
    run.add_argument("--list", action="store_true",
                     help="list the recipes, one line each, and exit")
    run.add_argument("recipe", metavar="RECIPE", nargs="?", help="recipe name, e.g. classify")
    run.add_argument("recipe_args", nargs=argparse.REMAINDER, help="the recipe's arguments")
    run.set_defaults(func=_cmd_run)


# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description="zoo: a Keras 3 applied model zoo.")
    parser.add_argument("--version", action="version", version=f"zoo {zoo.__version__}")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up logs (hidden by default)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    list_cmd = subparsers.add_parser(
        "list", help="list the backbones", description="List the registered backbones.")
    list_cmd.add_argument("pattern", nargs="?", default=None,
                          help="wildcard pattern such as 'res*' (default: all)")
    list_cmd.set_defaults(func=_cmd_list)

    info = subparsers.add_parser(
        "info", help="show everything known about one backbone",
        description="Show the registry record of a backbone and the state of its weights.")
    info.add_argument("name", metavar="NAME", help="backbone name, e.g. resnet50")
    info.add_argument("--json", action="store_true", help="print the record as JSON")
    info.set_defaults(func=_cmd_info)

    _add_weights_commands(subparsers)
    _add_run_command(subparsers)
    # Each package's commands live in its own cli.py, beside the code they
    # drive, and keep their heavy imports inside their handlers.
    from zoo.classification import cli as classification_cli
    from zoo.classification.search import cli as search_cli
    from zoo.data import cli as data_cli
    from zoo.gan import cli as gan_cli
    from zoo.tracking import cli as tracking_cli

    for package_cli in (data_cli, classification_cli, gan_cli, search_cli, tracking_cli):
        package_cli.add_commands(subparsers)
    return parser


def main(argv=None) -> int:
    # Before anything imports TensorFlow; `zoo --verbose ...` keeps its logs.
    quiet_tensorflow(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ZooError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
