"""TensorFlow's start-up logs stay off stderr unless --verbose is given."""

import os
import subprocess
import sys

import pytest

from zoo import quiet

RECIPE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes",
                      "transfer_digits.py")
CHATTER = ("oneDNN", "absl::InitializeLog", "cpu_feature_guard")


@pytest.fixture
def fresh_quiet(monkeypatch):
    monkeypatch.delenv(quiet.LOG_LEVEL_VARIABLE, raising=False)
    monkeypatch.setattr(quiet, "_set_here", False)
    monkeypatch.setattr(quiet, "_verbose", False)


def test_quiet_unless_verbose(fresh_quiet):
    assert quiet.quiet_tensorflow(["run", "classify"]) is True
    assert os.environ[quiet.LOG_LEVEL_VARIABLE] == "2"
    # `zoo run classify --verbose`: the recipe takes back what zoo set.
    assert quiet.quiet_tensorflow(["--epochs", "1", "--verbose"]) is False
    assert quiet.LOG_LEVEL_VARIABLE not in os.environ
    # ... and verbose holds for the rest of the process.
    assert quiet.quiet_tensorflow([]) is False
    assert quiet.LOG_LEVEL_VARIABLE not in os.environ


def test_a_level_the_user_set_is_kept(fresh_quiet, monkeypatch):
    monkeypatch.setenv(quiet.LOG_LEVEL_VARIABLE, "0")
    assert quiet.quiet_tensorflow([]) is False
    assert quiet.quiet_tensorflow(["--verbose"]) is False
    assert os.environ[quiet.LOG_LEVEL_VARIABLE] == "0"


@pytest.mark.slow
def test_commands_that_import_tensorflow_keep_stderr_clean(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != quiet.LOG_LEVEL_VARIABLE}

    def stderr_of(*command):
        result = subprocess.run([sys.executable, *command], capture_output=True, text=True,
                                timeout=300, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stderr

    # transfer_digits imports TensorFlow at its top, before it parses --help.
    loud = stderr_of(RECIPE, "--help", "--verbose")
    if not any(text in loud for text in CHATTER):
        pytest.skip(reason="this TensorFlow build prints nothing at start-up, even verbose")
    err = stderr_of("-m", "zoo", "run", "transfer_digits", "--help")
    assert not [text for text in CHATTER if text in err], err
