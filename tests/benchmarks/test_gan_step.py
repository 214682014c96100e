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


@pytest.mark.slow  # about 30 s: it traces and runs four GAN train steps
def test_quick_mode_prints_both_ratios_the_share_of_peak_and_the_choice(capsys):
    load_benchmark().main(["--quick", "--settings", "fp32"])
    out = capsys.readouterr().out
    peak = re.search(r"^conv peak fp32: (\S+) GFLOP/s", out, re.MULTILINE)
    assert peak and float(peak.group(1)) > 0, out
    for model in ("pix2pix", "cyclegan"):
        line = re.search(rf"^{model} fp32 ratio zoo/plain: (\S+)  \(zoo (\S+) steps/s, "
                         r"plain (\S+) steps/s; zoo (\S+) GFLOP/s, (\d+)% of the fp32 conv "
                         r"peak\)$", out, re.MULTILINE)
        assert line, out
        assert all(float(value) > 0 for value in line.groups()[:4])
        assert re.search(rf"^{model} fastest here: fp32; mixed_precision='auto' picks "
                         r"(off|bfloat16|float16) \(.+\)$", out, re.MULTILINE), out
    # The profiler counted the step's convolutions: CycleGAN's are not nothing.
    gflop = re.search(r"^cyclegan at 32 px, batch 1, ngf=ndf=8, (\S+) GFLOP a step", out,
                      re.MULTILINE)
    assert gflop and float(gflop.group(1)) > 0.1, out


def test_steps_below_one_are_refused_by_name(capsys):
    with pytest.raises(SystemExit):
        load_benchmark().main(["--steps", "0"])
    assert "--steps and --repeats must be at least 1" in capsys.readouterr().err
