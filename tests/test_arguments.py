"""Bad arguments stop at once: exit status 2 and the option named, before any
data is read or TensorFlow is imported."""

import os
import subprocess
import sys
import textwrap

import pytest

from zoo.arguments import ArgumentError, check_backbones, check_number, check_weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUNE = os.path.join(REPO, "recipes", "tune_classifier.py")

# Runs one entry point in a fresh interpreter and reports how it ended and
# whether TensorFlow got imported on the way.
PROBE = textwrap.dedent("""
    import runpy, sys
    entry, argv = sys.argv[1], sys.argv[2:]
    code = None
    try:
        if entry == "zoo":
            from zoo.cli import main
            code = main(argv)
        else:
            sys.argv = [entry, *argv]
            runpy.run_path(entry, run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
    print("EXIT", code, "TENSORFLOW", "tensorflow" in sys.modules)
""")


@pytest.mark.parametrize("entry, args, option", [
    (TUNE, ["--backbones", "resnet50,vgg61"], "--backbones"),
    (TUNE, ["--space", "dropout=5"], "--space"),
    (TUNE, ["--max-trials", "0"], "--max-trials"),
    ("zoo", ["run", "classify", "--batch-size", "0"], "--batch-size"),
    ("zoo", ["tune", "--data", "no/such/folder"], "--data"),
    ("zoo", ["tune", "--space", "backbone=xception", "--image-size", "32"], "--image-size"),
])
def test_bad_argument_exits_2_before_tensorflow(entry, args, option, tmp_path):
    result = subprocess.run([sys.executable, "-c", PROBE, entry, *args], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "EXIT 2 TENSORFLOW False", \
        result.stdout + result.stderr
    assert f"argument {option}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Data '" not in result.stdout  # the data was never read


def test_check_backbones_names_the_option():
    check_backbones("--backbone", "resnet50", 32)
    with pytest.raises(ArgumentError, match=r"argument --backbone: Unknown backbone 'resnet5'"):
        check_backbones("--backbone", "resnet5")
    with pytest.raises(ArgumentError, match=r"argument --size: 70 px .* xception, 71 px"):
        check_backbones("--backbones", ["resnet50", "xception"], 70, size_option="--size")


def test_check_number_bounds():
    check_number("--dropout", 0.0, 0, 1, high_open=True)
    with pytest.raises(ArgumentError, match=r"--dropout: must be in \[0, 1\)\. Received: 1"):
        check_number("--dropout", 1, 0, 1, high_open=True)
    with pytest.raises(ArgumentError, match="must be above 0"):
        check_number("--learning-rate", 0.0, 0, low_open=True)
    with pytest.raises(ArgumentError, match="must be at least 1"):
        check_number("--batch-size", 0, 1)


def test_check_weights(tmp_path):
    for word in ("auto", "imagenet", "none", None):
        check_weights("--weights", word)
    existing = tmp_path / "backbone.weights.h5"
    existing.write_bytes(b"")
    check_weights("--weights", str(existing))
    with pytest.raises(ArgumentError, match="is a folder"):
        check_weights("--weights", str(tmp_path))
    with pytest.raises(ArgumentError, match="no file"):
        check_weights("--weights", str(tmp_path / "missing.h5"))
