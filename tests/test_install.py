"""The wheel alone works: built from this checkout, installed into a fresh
venv, and used from an empty folder, nothing is imported from the checkout.

The new venv takes zoo's dependencies from the environment running the tests
(nothing is downloaded) and only zoo from the wheel. `--system-site-packages`
alone is not enough when that environment is itself a venv (it names the
base interpreter's packages, not the venv's), so a .pth file appends the
running environment's site-packages to the new venv's path. Appended, after
the venv's own site-packages; and a path listed in a .pth file has its own
.pth files ignored, so an editable install of zoo there (the outer venv's
finder) is not loaded.
"""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TINY_CLASSIFY = ["--weights", "none", "--data", "digits", "--backbone", "mobilenet_v3_small",
                 "--image-size", "32", "--batch-size", "64", "--epochs", "1",
                 "--fine-tune-epochs", "0"]


def run(command, cwd, env, timeout=600):
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, (f"{command} failed ({result.returncode}):\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_wheel_works_from_an_empty_folder(tmp_path):
    # A clean environment: nothing from PYTHONPATH (the checkout) or user site.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path}/mlflow.db",
               ZOO_CACHE_DIR=str(tmp_path / "cache"), KERAS_HOME=str(tmp_path / "keras"))

    # 1. The wheel, built from the checkout without build isolation (offline).
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", dist, REPO], cwd=tmp_path, env=env)
    (wheel,) = dist.glob("keras_applied_zoo-*.whl")

    # 2. A fresh venv holding only that wheel; dependencies from this environment.
    home = tmp_path / "venv"
    venv.create(home, system_site_packages=True, with_pip=False)
    python = home / "bin" / "python"
    own_site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                       "['purelib'])"], cwd=tmp_path, env=env).strip())
    outer = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (own_site / "zz_outer_environment.pth").write_text("\n".join(outer) + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel], cwd=tmp_path, env=env)

    # 3. From an empty folder.
    work = tmp_path / "work"
    work.mkdir()
    zoo = home / "bin" / "zoo"
    where = run([python, "-c", "import zoo, zoo.recipes; print(zoo.__file__); "
                               "print(zoo.recipes.__file__)"], cwd=work, env=env).split()
    for path in where:
        assert Path(path).resolve().is_relative_to(home.resolve()), where
        assert not Path(path).resolve().is_relative_to(REPO), where

    assert run([zoo, "--version"], cwd=work, env=env).strip() == "zoo 0.1.0"
    assert "mobilenet_v3_small" in run([zoo, "list"], cwd=work, env=env)
    recipes = run([zoo, "run", "--list"], cwd=work, env=env)
    assert "classify" in recipes and "tune_classifier" in recipes

    output = work / "out"
    out = run([zoo, "run", "classify", *TINY_CLASSIFY, "--output-dir", output], cwd=work,
              env=env, timeout=900)
    assert "accuracy:" in out and "MLflow run:" in out
    model = output / "model.keras"
    assert model.is_file()

    image = work / "seven.png"
    run([python, "-c", "import numpy as np, PIL.Image as I, sys; "
                       "I.fromarray(np.full((40, 40, 3), 128, 'uint8')).save(sys.argv[1])",
         image], cwd=work, env=env)
    predicted = run([zoo, "predict", model, image, "--top-k", "2"], cwd=work, env=env)
    assert "seven.png" in predicted

    # The Python API, and the embedded data that ships inside dependencies.
    api = run([python, "-c", "import zoo; "
                             "m = zoo.create_classifier('mobilenet_v3_small', num_classes=3, "
                             "weights=None, input_shape=(32, 32, 3)); "
                             "print(m.output_shape); "
                             "from zoo.data import load_classification; "
                             "train, val, names = load_classification('faces', 32, 8); "
                             "print(len(names))"], cwd=work, env=env)
    assert "(None, 3)" in api
    assert not list(work.glob("recipes")), "nothing is copied into the working folder"
