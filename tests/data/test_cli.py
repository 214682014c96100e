"""`zoo data check`: in process through zoo.cli.main, and once as the
installed `zoo` command."""

import os
import subprocess
import sys

import pytest

from zoo.cli import main

ZOO = os.path.join(os.path.dirname(sys.executable), "zoo")


def test_check_classification_report(messy_classes, draw, capsys):
    before = draw.tree_fingerprint(messy_classes)
    assert main(["data", "check", messy_classes]) == 0
    out = capsys.readouterr().out
    assert "classification (one folder per class)" in out
    assert "cats  15" in out and "dogs  3" in out
    assert "decompression bomb" in out and "truncated or corrupt image data" in out
    assert "median" in out
    assert draw.tree_fingerprint(messy_classes) == before


def test_check_detects_pairs_and_unpaired(tmp_path, draw, capsys):
    for i in range(2):
        draw.save(draw.noise((16, 8), seed=i), tmp_path / "facades" / "train" / f"{i}.jpg")
        draw.save(draw.noise(seed=i), tmp_path / "h2z" / "trainA" / f"{i}.jpg")
        draw.save(draw.noise(seed=i), tmp_path / "h2z" / "trainB" / f"{i}.jpg")
    assert main(["data", "check", str(tmp_path / "facades")]) == 0
    assert "pairs (train/test folders of side-by-side A|B images)" in capsys.readouterr().out
    assert main(["data", "check", str(tmp_path / "h2z")]) == 0
    out = capsys.readouterr().out
    assert "unpaired" in out and "trainA  2" in out


def test_wrong_kind_is_a_data_error_on_stderr(messy_classes, capsys):
    assert main(["data", "check", messy_classes, "--kind", "unpaired"]) == 2
    captured = capsys.readouterr()
    assert "zoo: error:" in captured.err and "Expected layout" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_embedded_name(capsys):
    assert main(["data", "check", "faces"]) == 0
    assert "train/face" in capsys.readouterr().out


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["data", "check", "--help"])
    assert info.value.code == 0
    assert "--kind" in capsys.readouterr().out


def test_installed_command(messy_classes, tmp_path):
    done = subprocess.run([ZOO, "data", "check", messy_classes], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "kept 18 images in 2 groups" in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([ZOO, "data", "check", str(empty), "--kind", "classification"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "No images found" in done.stderr and "Traceback" not in done.stderr
