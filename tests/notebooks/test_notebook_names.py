"""Every zoo name a notebook uses still exists: a quick check that catches a
rename long before the slow suite runs the notebook itself."""

import ast
import importlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def notebook_tree(path: Path) -> ast.Module:
    """The notebook's code cells as one module; IPython's magics and shell lines dropped."""
    cells = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
             if cell["cell_type"] == "code"]
    lines = [line for cell in cells for line in cell.splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines), filename=str(path))


def top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def has_name(module, name: str) -> bool:
    """`from module import name` works: an attribute, or a submodule not yet imported."""
    if hasattr(module, name):
        return True
    try:
        importlib.import_module(f"{module.__name__}.{name}")
    except ModuleNotFoundError:
        return False
    return True


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_zoo_import_resolves(path):
    missing = []
    for node in ast.walk(notebook_tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "zoo":
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{alias.name}" for alias in node.names
                        if not has_name(module, alias.name)]
    assert not missing, f"{path.name} imports names zoo no longer has: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_recipe_attribute_exists(path):
    """A notebook that borrows a recipe's helpers (recipe = load_recipe("name"))
    uses only what the recipe still defines."""
    tree = notebook_tree(path)
    recipes = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "load_recipe"):
            recipe_name = node.value.args[0].value
            for target in node.targets:
                recipes[target.id] = top_level_names(ROOT / "recipes" / f"{recipe_name}.py")
    missing = [f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and node.value.id in recipes and node.attr not in recipes[node.value.id]]
    assert not missing, f"{path.name} uses recipe names that are gone: {missing}"
