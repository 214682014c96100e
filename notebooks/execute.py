"""Run zoo's notebooks top to bottom and keep their outputs.

    python notebooks/execute.py                 # every notebook, full settings, saved in place
    python notebooks/execute.py 02_cnn.ipynb    # just these
    python notebooks/execute.py --quick         # tiny settings, nothing saved (what the tests run)

Each notebook reads `ZOO_NOTEBOOK_QUICK` in its first code cell: `1` shrinks
data and epochs so the whole notebook takes a minute or two, with the same
code. The working folder is `notebooks/`, so every run is tracked in
`notebooks/mlflow.db` (open it with `zoo ui --tracking-uri sqlite:///mlflow.db`
from this folder) unless MLFLOW_TRACKING_URI says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
QUICK_VARIABLE = "ZOO_NOTEBOOK_QUICK"
# A notebook's RESULTS dict is how the tests read what it found.
RESULTS_CELL = "import json as _json\nprint(_json.dumps(RESULTS, default=float))"


def notebooks() -> list[Path]:
    return sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))


def execute(path: Path, *, quick: bool, workdir: Path | None = None,
            timeout: int = 1800) -> tuple[object, dict]:
    """Run one notebook; return it with its outputs, and its RESULTS dict."""
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    results_cell = nbformat.v4.new_code_cell(RESULTS_CELL)
    notebook.cells.append(results_cell)
    previous = os.environ.get(QUICK_VARIABLE)
    os.environ[QUICK_VARIABLE] = "1" if quick else "0"
    try:
        # IPC sockets in a scratch folder: the kernel opens no TCP port at all.
        with tempfile.TemporaryDirectory(prefix="zoo-kernel-") as sockets:
            kernel = KernelManager(kernel_name="python3", transport="ipc",
                                   ip=str(Path(sockets) / "kernel"))
            NotebookClient(notebook, km=kernel, timeout=timeout,
                           resources={"metadata": {"path": str(workdir or FOLDER)}}).execute()
    finally:
        if previous is None:
            os.environ.pop(QUICK_VARIABLE, None)
        else:
            os.environ[QUICK_VARIABLE] = previous
    notebook.cells.pop()
    printed = "".join(output.get("text", "") for output in results_cell.outputs
                      if output.get("output_type") == "stream")
    return notebook, json.loads(printed.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook file names (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny settings; the notebooks are not saved")
    args = parser.parse_args(argv)
    chosen = [FOLDER / name for name in args.names] or notebooks()
    missing = [str(p) for p in chosen if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    import nbformat

    for path in chosen:
        print(f"[notebooks] running {path.name} ({'quick' if args.quick else 'full'} settings)",
              flush=True)
        notebook, results = execute(path, quick=args.quick)
        print(f"[notebooks] {path.name}: {json.dumps(results, default=float)}", flush=True)
        if not args.quick:
            nbformat.write(notebook, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
