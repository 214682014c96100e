"""The `zoo` command: output, exit codes, and no tracebacks."""

import json
import os
import subprocess
import sys

import pytest

from zoo import cli
from zoo.backbones import BACKBONES

ZOO = [sys.executable, "-m", "zoo"]


def run(args, **kwargs):
    return subprocess.run(ZOO + args, capture_output=True, text=True, timeout=300, **kwargs)


def test_list_prints_a_table(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in BACKBONES:
        assert name in out
    assert "preprocessing" in out.splitlines()[0]


def test_list_with_pattern(capsys):
    assert cli.main(["list", "vgg*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[2:]] == ["vgg16", "vgg19"]
    assert cli.main(["list", "zzz*"]) == 1


def test_info_json(capsys, keras_home):
    assert cli.main(["info", "inception_v3", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["min_size"] == 75 and record["preprocessing"] == "tf"
    assert record["cache"]["notop"]["present"] is False
    assert record["cache"]["notop"]["path"].startswith(str(keras_home))


def test_unknown_backbone_is_an_error_without_traceback(capsys):
    assert cli.main(["info", "resnet5"]) == 2
    captured = capsys.readouterr()
    assert "Did you mean" in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_weights_path_reports_missing_file(capsys, keras_home):
    assert cli.main(["weights", "path", "vgg16"]) == 1
    out = capsys.readouterr().out
    assert str(keras_home / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5") in out
    assert "missing" in out


def test_weights_fetch_offline(capsys, keras_home, no_network):
    assert cli.main(["weights", "fetch", "resnet50", "not_a_model"]) == 2
    err = capsys.readouterr().err
    assert "zoo weights fetch resnet50" in err
    assert "Unknown backbone 'not_a_model'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["info", "--help"],
                                  ["weights", "--help"], ["weights", "fetch", "--help"],
                                  ["weights", "path", "--help"]])
def test_every_command_has_help(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    assert exit_info.value.code == 0
    assert "usage: zoo" in capsys.readouterr().out


def test_console_script_version_and_usage_errors():
    result = run(["--version"])
    assert result.returncode == 0 and result.stdout.startswith("zoo ")
    result = run(["no-such-command"])
    assert result.returncode == 2 and "invalid choice" in result.stderr
    result = run(["info", "nope"], env={**os.environ, "KERAS_HOME": "/nonexistent"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.startswith("zoo: error:")
