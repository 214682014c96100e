"""recipes/cyclegan.py on a folder with no known true mapping. The run on the
embedded domains, its MLflow record and its saved generators are checked by
the family contract (tests/gan/test_cyclegan_contract.py)."""

import numpy as np
import pytest
from PIL import Image

TINY = ["--image-size", "24", "--epochs", "1", "--decay-epochs", "0", "--ngf", "4",
        "--fid", "none"]


@pytest.mark.slow
def test_cyclegan_on_folders_without_a_true_mapping(workdir, capsys, load_recipe):
    rng = np.random.default_rng(1)
    for folder in ("trainA", "trainB", "testA", "testB"):
        (workdir / "domains" / folder).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).save(
                workdir / "domains" / folder / f"{index}.png")
    result = load_recipe("cyclegan").main(TINY + ["--data", str(workdir / "domains"),
                                                  "--tracking-uri", f"sqlite:///{workdir}/m.db"])
    out = capsys.readouterr().out
    assert "No true mapping is known for this data" in out
    assert result.rows == {} and result.upper == {}
    assert {p.name for p in (result.output / "generators").iterdir()} == {
        "generator_AtoB.keras", "generator_BtoA.keras"}
    assert sorted(p.name for p in (result.output / "samples").iterdir()) == ["epoch-0001.png"]
