"""The notebooks as stored: run, with their outputs, small, and linked from the README."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 2 * 1024 * 1024


def test_the_path_has_its_notebooks():
    numbers = [path.name[:2] for path in NOTEBOOKS]
    assert numbers == [f"{n:02d}" for n in range(1, len(numbers) + 1)], numbers
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_with_the_outputs_of_a_real_run(path):
    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, "no code cells"
    counts = [cell.get("execution_count") for cell in code]
    # One top-to-bottom run: every cell ran, in order, and none failed.
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: execution counts {counts}"
    errors = [out for cell in code for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors, f"{path.name} was saved with an error: {errors[0].get('ename')}"
    assert any(out.get("output_type") == "display_data" and "image/png" in out.get("data", {})
               for cell in code for out in cell.get("outputs", [])), \
        f"{path.name} shows no picture"
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_reads_the_quick_switch_and_ends_with_the_way_to_the_ui(path):
    notebook = json.loads(path.read_text())
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert "ZOO_NOTEBOOK_QUICK" in code[0], "the first code cell must read ZOO_NOTEBOOK_QUICK"
    assert "RESULTS" in "".join(code), "the tests read the notebook's RESULTS dict"
    last = notebook["cells"][-1]
    printed = "".join(out.get("text", "") if isinstance(out.get("text", ""), str)
                      else "".join(out["text"]) for out in last.get("outputs", []))
    assert "open_ui_command" in "".join(last["source"]) and \
        printed.startswith("zoo ui --tracking-uri "), \
        "the notebook ends by printing where to see its runs (zoo.tracking.open_ui_command())"


def test_the_readme_links_every_notebook():
    readme = (ROOT / "README.md").read_text()
    missing = [path.name for path in NOTEBOOKS if f"notebooks/{path.name}" not in readme]
    assert not missing, f"README.md does not link {missing}"
