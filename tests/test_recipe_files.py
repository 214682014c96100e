"""`zoo run` finds the recipes of the checkout or the installed package, and lists them."""

from pathlib import Path

from zoo import cli
from zoo.recipe_files import find_recipes, recipe_summary

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def test_the_checkout_recipes_are_found_as_they_are():
    found = find_recipes()
    on_disk = {p.stem for p in RECIPES.glob("*.py") if not p.name.startswith("_")}
    assert set(found) == on_disk and "classify" in found
    assert found["classify"] == RECIPES / "classify.py"  # the same file, not a copy


def test_run_list_shows_one_line_per_recipe(capsys):
    assert cli.main(["run", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(find_recipes())
    classify = next(line for line in lines if line.startswith("classify "))
    assert "An image classifier by transfer learning" in classify
    assert "Title:" not in classify


def test_unknown_or_missing_recipe_names_the_choices(capsys):
    assert cli.main(["run", "clasify"]) == 2
    err = capsys.readouterr().err
    assert "No recipe named 'clasify'" in err and "classify" in err and "zoo run --list" in err
    assert cli.main(["run"]) == 2
    assert "Name a recipe" in capsys.readouterr().err


def test_summary_of_a_file_without_docstring(tmp_path):
    bare = tmp_path / "bare.py"
    bare.write_text("print('hi')\n")
    assert recipe_summary(bare) == ""
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert recipe_summary(broken).startswith("(cannot read its docstring")
