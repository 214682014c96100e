"""zoo's modules import each other in one direction only: no import cycles.

Every import counts, those inside functions too: a lazy import that closes
a cycle is still two modules that cannot be understood one without the
other. A package's `__init__` re-exporting its own submodules is not a cycle.
"""

import ast
import os

ZOO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo")


def _modules() -> dict[str, str]:
    """Module name -> file, for every module of the zoo package."""
    modules = {}
    root = os.path.dirname(ZOO)
    for folder, _, files in os.walk(ZOO):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                module = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                modules[module.removesuffix(".__init__")] = path
    return modules


def _imports(module: str, path: str, modules) -> set[str]:
    """The zoo modules `module` imports, anywhere in its file."""
    is_package = path.endswith("__init__.py")
    targets = set()
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[:None if is_package else -1]
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # `from zoo.x import y` imports the module zoo.x.y when there is one.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            # `import zoo` (for the public API) is not an edge to every module.
            if name and name != module and name != "zoo":
                targets.add(name)
    return targets


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            # A package and its own submodules (lazy re-exports) are not a design cycle.
            real = [m for m in component
                    if not any(o.startswith(m + ".") for o in component if o != m)]
            if len(real) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_zoo_has_no_import_cycles():
    modules = _modules()
    edges = {module: _imports(module, path, modules) for module, path in modules.items()}
    assert "zoo.classification.classifier" in edges["zoo.classification.trainer"]  # edges are seen
    assert _cycles(edges) == []


def test_a_cycle_would_be_found():
    edges = {"zoo.a": {"zoo.b"}, "zoo.b": {"zoo.c"}, "zoo.c": {"zoo.a"}, "zoo.d": {"zoo.a"}}
    assert _cycles(edges) == [["zoo.a", "zoo.b", "zoo.c"]]


def test_library_code_does_not_import_the_command_line():
    modules = _modules()
    for module, path in modules.items():
        if module.endswith(("cli", "__main__")) or module == "zoo":
            continue
        assert "zoo.cli" not in _imports(module, path, modules), module


# Imports run down this list, never up it, and a family never imports another:
# a new family (a DCGAN, a melody VAE) adds a package to FAMILIES and needs
# nothing from the others. The command line and the public API sit on top.
ENTRY_POINTS = ("zoo", "zoo.cli", "zoo.__main__")
FAMILIES = ("zoo.classification", "zoo.gan")
# zoo.tuning is keras-tuner's machinery (tuners, stopping, the run tree, the
# distributed oracle); a family's search (zoo.classification.search) uses it.
SHARED_CORE = ("zoo.training", "zoo.tracking", "zoo.data", "zoo.tuning", "zoo.arguments",
               "zoo.recipe_run")
# Everything else in zoo is the base: errors, files, text, compat, the
# backbone registry and its preprocessing and weights.


def _package(module: str, packages) -> str | None:
    return next((p for p in packages if module == p or module.startswith(p + ".")), None)


def _layer(module: str) -> int:
    if module in ENTRY_POINTS or module.endswith(".cli") and not _package(
            module, SHARED_CORE):
        return 3
    if _package(module, FAMILIES):
        return 2
    if _package(module, SHARED_CORE):
        return 1
    return 0


def _layer_violations(edges) -> list[str]:
    found = []
    for module, targets in edges.items():
        for target in targets:
            if _layer(target) > _layer(module):
                found.append(f"{module} -> {target}")
            mine, theirs = _package(module, FAMILIES), _package(target, FAMILIES)
            if mine and theirs and mine != theirs and _layer(module) == 2:
                found.append(f"{module} -> {target} (another family)")
    return sorted(found)


def test_imports_run_from_entry_points_to_families_to_the_shared_core_to_the_base():
    modules = _modules()
    edges = {module: _imports(module, path, modules) for module, path in modules.items()}
    assert {"zoo.training.loop", "zoo.gan.run_setup", "zoo.files"} <= set(edges)
    assert _layer_violations(edges) == []


def test_a_core_module_importing_a_family_would_be_found():
    edges = {"zoo.training.loop": {"zoo.classification.classifier"},
             "zoo.gan.run_setup": {"zoo.classification.trainer", "zoo.training.loop"},
             "zoo.files": {"zoo.tracking.runs"}, "zoo.cli": {"zoo.gan"}}
    assert _layer_violations(edges) == [
        "zoo.files -> zoo.tracking.runs",
        "zoo.gan.run_setup -> zoo.classification.trainer (another family)",
        "zoo.training.loop -> zoo.classification.classifier",
    ]


def _type_checking_imports(path: str) -> dict[str, str]:
    """Name -> module of the imports under `if TYPE_CHECKING:` in a file."""
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.body:
                if isinstance(child, ast.ImportFrom):
                    found.update({alias.name: child.module for alias in child.names})
    return found


def test_every_lazy_name_is_visible_to_type_checkers():
    """A package's lazily loaded names (zoo/_lazy.py) are also imported under
    `if TYPE_CHECKING:`, from the same module, so IDEs and type checkers see
    them; the two lists never drift apart."""
    import importlib

    checked = 0
    for module, path in _modules().items():
        if not path.endswith("__init__.py"):
            continue
        with open(path, encoding="utf-8") as file:
            if "lazy_attributes(" not in file.read():
                continue
        lazy = importlib.import_module(module)._LAZY
        assert _type_checking_imports(path) == lazy, module
        checked += 1
    assert checked >= 8
