"""TensorFlow's start-up chatter, kept off the terminal unless `--verbose` is given.

TensorFlow's C++ side prints its start-up notes on stderr ("oneDNN custom
operations are on...", "All log messages before absl::InitializeLog()...",
CPU instruction hints) at INFO and WARNING level. They say nothing about the
user's run, and they bury zoo's own messages. TF_CPP_MIN_LOG_LEVEL=2 hides
them and keeps errors; it acts only if set before TensorFlow is imported,
so the `zoo` command and each recipe call `quiet_tensorflow()` first, before
their own imports.

A level the user set themselves is left alone, and so is everything when
`--verbose` is among the arguments, of this call or of an earlier one in the
same process (`zoo --verbose run classify` runs the recipe in its process).
The flag is looked up in argv rather than parsed, because some recipes
import TensorFlow at their top, before they parse their arguments.
"""

from __future__ import annotations

import os
import sys

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
# 2: errors only; INFO (the oneDNN note) and WARNING (the absl note) are hidden.
QUIET_LEVEL = "2"
VERBOSE_FLAG = "--verbose"

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
        if _set_here:
            os.environ.pop(LOG_LEVEL_VARIABLE, None)
            _set_here = False
        return False
    if LOG_LEVEL_VARIABLE not in os.environ:
        os.environ[LOG_LEVEL_VARIABLE] = QUIET_LEVEL
        _set_here = True
    return _set_here
