"""Where `zoo run` finds the recipes, and the one line that describes each.

The recipes are the top-level recipes/ folder of a checkout; a wheel carries
that same folder as the package `zoo.recipes` (see setup.py). Nothing here
imports a recipe: `zoo run --list` reads their docstrings without running
them, so it answers at once.
"""

from __future__ import annotations

import ast
import importlib.resources
from pathlib import Path

import zoo


def recipe_folders() -> list[Path]:
    """The folders that hold recipes, the one matching the imported zoo first.

    When zoo is imported from a checkout (PYTHONPATH, or a worktree beside an
    editable install of another one), that checkout's recipes/ is the copy
    that matches the code; otherwise `zoo.recipes`, which is the same folder
    in an editable install and zoo/recipes/ in a wheel.
    """
    folders = []
    checkout = Path(zoo.__file__).resolve().parent.parent / "recipes"
    if (checkout / "__init__.py").is_file():
        folders.append(checkout)
    try:
        installed = importlib.resources.files("zoo.recipes")
    except ModuleNotFoundError:  # a source tree without recipes/: nothing to add
        installed = None
    if isinstance(installed, Path) and installed.is_dir():
        folders.append(installed.resolve())
    return list(dict.fromkeys(folders))


def find_recipes() -> dict[str, Path]:
    """Recipe name -> file, for every recipe in recipe_folders(), first folder winning."""
    recipes: dict[str, Path] = {}
    for folder in recipe_folders():
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_"):
                recipes.setdefault(path.stem, path)
    return recipes


def recipe_summary(path: Path) -> str:
    """The first line of a recipe's docstring, without its "Title:" label."""
    try:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        return f"(cannot read its docstring: {exc})"
    first = docstring.strip().splitlines()[0] if docstring.strip() else ""
    return first.removeprefix("Title:").strip()
