"""TensorFlow's start-up logs and stray progress bars stay off the terminal
unless --verbose is given, with oneDNN on (where TensorFlow prints the most)."""

import os
import subprocess
import sys
import textwrap

import pytest

from zoo import quiet

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = os.path.join(REPO, "recipes")
# What TensorFlow prints at start-up, and what a Keras progress bar draws.
CHATTER = ("oneDNN", "absl::InitializeLog", "cpu_feature_guard", "port.cc")
PROGRESS_BAR = "━"


@pytest.fixture
def fresh_quiet(monkeypatch):
    monkeypatch.delenv(quiet.LOG_LEVEL_VARIABLE, raising=False)
    monkeypatch.setattr(quiet, "_set_here", False)
    monkeypatch.setattr(quiet, "_verbose", False)
    yield
    quiet._FilterFirstTensorFlowImport.remove()


def loud_environment(**extra):
    """oneDNN on (TensorFlow then announces it on every CPU), no log level set."""
    env = {k: v for k, v in os.environ.items() if k != quiet.LOG_LEVEL_VARIABLE}
    env.update(TF_ENABLE_ONEDNN_OPTS="1", **extra)
    return env


def run_python(code, cwd, env=None, timeout=300):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=timeout, cwd=cwd, env=env or loud_environment())
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_quiet_unless_verbose(fresh_quiet):
    assert quiet.quiet_tensorflow(["run", "classify"]) is True
    assert os.environ[quiet.LOG_LEVEL_VARIABLE] == "2"
    # `zoo run classify --verbose`: the recipe takes back what zoo set.
    assert quiet.quiet_tensorflow(["--epochs", "1", "--verbose"]) is False
    assert quiet.LOG_LEVEL_VARIABLE not in os.environ
    assert not quiet._FilterFirstTensorFlowImport.installed()
    # ... and verbose holds for the rest of the process.
    assert quiet.quiet_tensorflow([]) is False
    assert quiet.LOG_LEVEL_VARIABLE not in os.environ
    assert quiet.is_verbose()


def test_a_level_the_user_set_is_kept(fresh_quiet, monkeypatch):
    monkeypatch.setenv(quiet.LOG_LEVEL_VARIABLE, "0")
    assert quiet.quiet_tensorflow([]) is False
    assert quiet.quiet_tensorflow(["--verbose"]) is False
    assert os.environ[quiet.LOG_LEVEL_VARIABLE] == "0"


def test_only_the_chatter_lines_are_dropped():
    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to "
            "STDERR\n"
            "I0000 00:00:1.0  1 port.cc:153] oneDNN custom operations are on. You may see ...\n"
            "E0000 a real error from a kernel\n"
            "Traceback (most recent call last):\n")
    assert quiet.drop_start_up_chatter(text) == ("E0000 a real error from a kernel\n"
                                                 "Traceback (most recent call last):\n")


def test_what_else_is_printed_during_the_import_still_reaches_stderr(tmp_path):
    # The filter stands in descriptor 2's place: C-level writes, chatter
    # and not, go through it, and only the chatter is dropped.
    result = run_python("""
        import os
        from zoo import quiet
        with quiet._stderr_filtered():
            os.write(2, b"W0000 cpu_feature_guard.cc:1] hint\\nE0000 a kernel failed\\n")
        os.write(2, b"after\\n")
        """, cwd=tmp_path)
    assert result.stderr == "E0000 a kernel failed\nafter\n"


def test_importing_tensorflow_prints_nothing_unless_verbose(tmp_path):
    code = """
        import sys
        from zoo.quiet import quiet_tensorflow
        quiet_tensorflow(sys.argv[1:])
        import keras  # imports tensorflow, the way recipes first meet it
        import tensorflow as tf
        print(float(tf.reduce_sum(tf.ones(3))))
        """
    loud = subprocess.run([sys.executable, "-c", textwrap.dedent(code), "--verbose"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env=loud_environment())
    assert loud.returncode == 0, loud.stderr[-3000:]
    # The check below can fail: this is what TensorFlow prints when left alone.
    assert "oneDNN custom operations are on" in loud.stderr, loud.stderr
    quiet_run = run_python(code, cwd=tmp_path)
    assert quiet_run.stdout.strip() == "3.0"
    assert quiet_run.stderr == "", quiet_run.stderr


def test_no_progress_bar_from_code_that_predicts_on_its_own(tmp_path):
    code = """
        import sys
        from zoo.quiet import no_progress_bars, quiet_tensorflow
        quiet_tensorflow(sys.argv[1:])
        import keras
        import numpy as np
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        with no_progress_bars():
            model.predict(np.ones((2, 3)))  # default verbosity: a bar when logging is on
        assert keras.config.is_interactive_logging_enabled()  # and it comes back after
        print("done")
        """
    shown = subprocess.run([sys.executable, "-c", textwrap.dedent(code), "--verbose"],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path,
                           env=loud_environment())
    assert PROGRESS_BAR in shown.stdout, shown.stdout  # the check below can fail
    hidden = run_python(code, cwd=tmp_path)
    assert hidden.stdout.strip() == "done", hidden.stdout


@pytest.mark.slow
def test_a_recipe_run_with_onednn_on_keeps_stderr_clean(tmp_path):
    """A whole classifier run, MLflow model logging included: stderr holds no
    TensorFlow start-up line and stdout no progress bar."""
    env = loud_environment(ZOO_DATA_CACHE=str(tmp_path / "cache" / "data"),
                           ZOO_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [sys.executable, "-m", "zoo", "run", "classify", "--epochs", "1",
         "--fine-tune-blocks", "0", "--image-size", "32", "--weights", "none"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Test accuracy" in result.stdout, result.stdout[-2000:]
    assert not [text for text in CHATTER if text in result.stderr], result.stderr
    assert PROGRESS_BAR not in result.stdout + result.stderr, result.stdout[-2000:]


@pytest.mark.slow
def test_help_of_a_recipe_that_imports_tensorflow_at_its_top(tmp_path):
    # transfer_digits imports TensorFlow at its top, before it parses --help.
    env = loud_environment()
    result = subprocess.run([sys.executable, "-m", "zoo", "run", "transfer_digits", "--help"],
                            capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [text for text in CHATTER if text in result.stderr], result.stderr
