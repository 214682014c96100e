"""benchmarks/gan_step.py runs and prints the ratio line the README quotes."""

import importlib.util
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gan_step.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("gan_step_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # about 15 s: it traces and runs two GAN train steps
def test_quick_mode_prints_a_positive_ratio_and_both_rates(capsys):
    load_benchmark().main(["--quick"])
    out = capsys.readouterr().out
    line = re.search(r"^pix2pix ratio zoo/plain: (\S+)  \(zoo fp32 (\S+) steps/s, "
                     r"plain (\S+) steps/s\)$", out, re.MULTILINE)
    assert line, out
    ratio, zoo_rate, plain_rate = (float(value) for value in line.groups())
    assert ratio > 0 and zoo_rate > 0 and plain_rate > 0
    line = re.search(r"^cyclegan ratio zoo/plain: (\S+)  \(zoo (\S+) steps/s, "
                     r"plain (\S+) steps/s\)$", out, re.MULTILINE)
    assert line, out
    assert all(float(value) > 0 for value in line.groups())


def test_steps_below_one_are_refused_by_name(capsys):
    with pytest.raises(SystemExit):
        load_benchmark().main(["--steps", "0"])
    assert "--steps and --repeats must be at least 1" in capsys.readouterr().err
