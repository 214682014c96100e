"""TensorFlow's start-up chatter and stray progress bars, kept off the terminal
unless `--verbose` is given.

TensorFlow's C++ side prints start-up notes on stderr while `import
tensorflow` runs: "oneDNN custom operations are on..." (on CPUs where oneDNN
is on by default, such as Intel's with AVX-512, or with
TF_ENABLE_ONEDNN_OPTS=1), "All log messages before absl::InitializeLog()...",
CPU instruction hints. They say nothing about the user's run, and they bury
zoo's own messages. TF_CPP_MIN_LOG_LEVEL=2 hides some of them, but not the
first two: TensorFlow writes those through absl before its own log level is
read. So `quiet_tensorflow()` also watches for the first `import tensorflow`
(whoever triggers it: zoo, Keras, MLflow) and sends the process's stderr to a
temporary file while it runs; afterwards every line that is not known
start-up chatter is written back to stderr, so an error printed during the
import is never lost. The `zoo` command and each recipe call
`quiet_tensorflow()` first, before their own imports.

Keras prints a progress bar whenever `predict` runs with its default
verbosity; MLflow's `log_model` calls it on the input example, and the bar
then lands between a recipe's evaluation and its end message.
`no_progress_bars()` switches Keras's interactive logging off around such
calls, unless `--verbose` was asked for.

A log level the user set themselves is left alone, and so is everything when
`--verbose` is among the arguments, of this call or of an earlier one in the
same process (`zoo --verbose run classify` runs the recipe in its process).
The flag is looked up in argv rather than parsed, because some recipes
import TensorFlow at their top, before they parse their arguments.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
# 2: errors only; INFO (CPU instruction hints) and WARNING are hidden.
QUIET_LEVEL = "2"
VERBOSE_FLAG = "--verbose"
# What TensorFlow prints on stderr while it is imported, whatever the log
# level. A line holding one of these is dropped; every other line is kept.
START_UP_CHATTER = (
    "absl::InitializeLog()",
    "oneDNN custom operations are on",
    "cpu_feature_guard",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
    "rebuild TensorFlow with the appropriate compiler flags",
)

# True while the level in the environment is the one this module put there,
# so that a recipe's --verbose can take back what `zoo` set before running it.
_set_here = False
# Once asked for, verbose holds for the rest of the process.
_verbose = False


def quiet_tensorflow(argv: list[str] | None = None) -> bool:
    """Hide TensorFlow's start-up logs unless argv holds `--verbose`.

    Args:
        argv: the command's arguments (default: sys.argv[1:]).

    Returns:
        True when the logs are hidden by this call or an earlier one.
    """
    global _set_here, _verbose
    argv = sys.argv[1:] if argv is None else argv
    _verbose = _verbose or VERBOSE_FLAG in argv
    if _verbose:
        _FilterFirstTensorFlowImport.remove()
        if _set_here:
            os.environ.pop(LOG_LEVEL_VARIABLE, None)
            _set_here = False
        return False
    if LOG_LEVEL_VARIABLE not in os.environ:
        os.environ[LOG_LEVEL_VARIABLE] = QUIET_LEVEL
        _set_here = True
    if not _user_level_is_loud():
        _FilterFirstTensorFlowImport.install()
    return _set_here or _FilterFirstTensorFlowImport.installed()


def is_verbose() -> bool:
    """Whether `--verbose` was asked for in this process."""
    return _verbose


@contextlib.contextmanager
def no_progress_bars():
    """Keras's progress bars off inside the block, unless `--verbose` was given.

    For library calls that run `predict` on their own, such as MLflow's
    `log_model` with an input example; the previous setting comes back after.
    """
    if _verbose:
        yield
        return
    from keras import config

    was_on = config.is_interactive_logging_enabled()
    config.disable_interactive_logging()
    try:
        yield
    finally:
        if was_on:
            config.enable_interactive_logging()


def drop_start_up_chatter(text: str) -> str:
    """`text` without the lines TensorFlow prints at start-up."""
    kept = [line for line in text.splitlines(keepends=True)
            if not any(marker in line for marker in START_UP_CHATTER)]
    return "".join(kept)


def _user_level_is_loud() -> bool:
    # A user who set TF_CPP_MIN_LOG_LEVEL below 2 asked to see INFO lines.
    level = os.environ.get(LOG_LEVEL_VARIABLE, QUIET_LEVEL)
    return level.strip() in ("0", "1")


class _FilterFirstTensorFlowImport:
    """An import hook: the first `import tensorflow` runs with stderr in a
    temporary file, and what it printed goes back to stderr less the chatter.

    The redirection is at the file-descriptor level, because the chatter comes
    from TensorFlow's C++ libraries, which write to descriptor 2 directly.
    """

    _instance = None

    @classmethod
    def install(cls) -> None:
        if "tensorflow" in sys.modules or cls._instance is not None:
            return
        cls._instance = cls()
        sys.meta_path.insert(0, cls._instance)

    @classmethod
    def remove(cls) -> None:
        if cls._instance is not None:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(cls._instance)
            cls._instance = None

    @classmethod
    def installed(cls) -> bool:
        return cls._instance is not None

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        # Once only: tensorflow's own submodules import normally.
        type(self).remove()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module

        def exec_module_quietly(module):
            with _stderr_filtered():
                run_module(module)

        spec.loader.exec_module = exec_module_quietly
        return spec


@contextlib.contextmanager
def _stderr_filtered():
    """Descriptor 2 goes to a temporary file inside the block; afterwards its
    lines go back to stderr, less TensorFlow's start-up chatter."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no usable descriptor 2 (closed, or replaced by a non-file)
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = drop_start_up_chatter(captured.read().decode(errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
