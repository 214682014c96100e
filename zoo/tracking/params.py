"""What describes a run before it trains: its parameters (the flattened
configuration) and its tags (recipe, zoo version, backbone, git commit, data).

Nothing here imports MLflow, so building them costs nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import subprocess
from collections.abc import Mapping

import zoo

# MLflow's limits (mlflow.utils.validation.MAX_PARAM_VAL_LENGTH, MAX_ENTITY_KEY_LENGTH),
# copied so that flattening a config does not import MLflow; a test keeps them equal.
MAX_PARAM_VALUE_LENGTH = 6000
MAX_KEY_LENGTH = 250

# The characters MLflow accepts in a param or metric name; others become "_".
_KEY_FORBIDDEN = re.compile(r"[^\w\-. :/]")

# Tag names. The git commit uses MLflow's own tag, which its UI shows as "Source version".
TAG_RECIPE = "zoo.recipe"
TAG_VERSION = "zoo.version"
TAG_BACKBONE = "zoo.backbone"
TAG_DATA_SOURCE = "zoo.data.source"
TAG_DATA_DIGEST = "zoo.data.digest"
TAG_GIT_COMMIT = "mlflow.source.git.commit"


def flatten_config(config: Mapping, sep: str = ".") -> dict[str, str]:
    """A nested configuration as flat MLflow parameters.

    Nested mappings and dataclasses join their keys with `sep` ("head.dropout").
    A list or tuple of plain values is one parameter ("[224, 224]"); one that
    holds mappings or lists is numbered ("augment.0.name"). Empty containers
    stay visible as "{}" or "[]"; None, bools, numbers, paths and enums are
    written as text. Values longer than MLflow accepts are cut, and say so.

    Args:
        config: the resolved configuration (a mapping, possibly nested).
        sep: what joins a parent key to a child key.

    Returns:
        {key: value} with str keys and values, ready for mlflow.log_params.
    """
    flat: dict[str, str] = {}
    _flatten_into(flat, "", config, sep)
    return {_param_key(key): _truncate(value) for key, value in flat.items()}


def _flatten_into(flat: dict[str, str], prefix: str, value, sep: str) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        if not value and prefix:
            flat[prefix] = "{}"
        for key, child in value.items():
            _flatten_into(flat, f"{prefix}{sep}{key}" if prefix else str(key), child, sep)
    elif isinstance(value, (list, tuple)):
        if all(_is_plain(item) for item in value):
            flat[prefix] = "[" + ", ".join(_plain_text(item) for item in value) + "]"
        else:
            for index, child in enumerate(value):
                _flatten_into(flat, f"{prefix}{sep}{index}", child, sep)
    else:
        flat[prefix or "value"] = _plain_text(value)


def _is_plain(value) -> bool:
    return not isinstance(value, (Mapping, list, tuple)) and not (
        dataclasses.is_dataclass(value) and not isinstance(value, type))


def _plain_text(value) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _param_key(key: str) -> str:
    key = _KEY_FORBIDDEN.sub("_", key)
    return key if len(key) <= MAX_KEY_LENGTH else key[:MAX_KEY_LENGTH]


def _truncate(value: str, limit: int = MAX_PARAM_VALUE_LENGTH) -> str:
    if len(value) <= limit:
        return value
    # The marker counts against the limit, and says how much is missing so that
    # nobody takes the cut value for the real one; config.json has it whole.
    marker = f"...[{len(value)} chars, cut; see config.json]"
    return value[:limit - len(marker)] + marker


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """The commit checked out in the working directory, or None.

    Args:
        cwd: where to ask git (default: the current directory).

    Returns:
        The full hash from `git rev-parse HEAD`; None when that is not a git
        work tree, the repository has no commit yet, or git is not installed.
    """
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{7,64}", commit) else None


def standard_tags(recipe: str, backbone: str | None = None, data_source=None,
                  data_digest: str | None = None) -> dict[str, str]:
    """The tags every zoo run carries; the ones that do not apply are left out.

    Args:
        recipe: the recipe's name, e.g. "classify".
        backbone: the backbone name, when the recipe has one.
        data_source: what the data was read from: "tfds:NAME", a folder, or an
            embedded set's name.
        data_digest: a fingerprint of that data (e.g. zoo.data's cache key).

    Returns:
        {tag: value}: zoo.recipe, zoo.version, zoo.backbone, zoo.data.source,
        zoo.data.digest and mlflow.source.git.commit.
    """
    tags = {TAG_RECIPE: recipe, TAG_VERSION: zoo.__version__}
    optional = {
        TAG_BACKBONE: backbone,
        TAG_DATA_SOURCE: os.fspath(data_source) if data_source is not None else None,
        TAG_DATA_DIGEST: data_digest,
        TAG_GIT_COMMIT: git_commit(),
    }
    tags.update({key: str(value) for key, value in optional.items() if value is not None})
    return tags
