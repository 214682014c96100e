"""The model registry: every registered model version starts as `candidate`;
the one to deploy carries `champion`.

    info = log_keras_model(model, images[:2])
    version = register_candidate(info.model_uri, "flowers")
    promote_if_better("flowers", version, metric="val/accuracy",
                      chance_level=majority_class_rate)

A version whose score does not beat `chance_level` (the majority-class rate
of the split the metric was measured on) stays a candidate even when there
is no champion yet: a model that predicts the most frequent class is never
the one to deploy.

Aliases, unlike the deprecated stages, point at one version each, and moving
one is a single call; `models:/flowers@champion` always loads the current one.
"""

from __future__ import annotations

import logging

from zoo.errors import TrackingError

_log = logging.getLogger(__name__)

CANDIDATE = "candidate"
CHAMPION = "champion"
# Set on a version kept from champion because it scored at chance level.
NOT_PROMOTED_TAG = "zoo.not_promoted"


def register_candidate(model_uri: str, name: str) -> int:
    """Register a logged model as a new version of `name` and alias it `candidate`.

    Args:
        model_uri: the logged model, e.g. ModelInfo.model_uri ("models:/m-...")
            or "runs:/RUN_ID/model".
        name: the registered model's name; created on first use.

    Returns:
        The new version number.
    """
    import mlflow

    version = mlflow.register_model(model_uri, name)
    mlflow.MlflowClient().set_registered_model_alias(name, CANDIDATE, version.version)
    return int(version.version)


def promote_if_better(name: str, version, metric: str = "val_accuracy",
                      higher_is_better: bool = True, chance_level: float | None = None) -> bool:
    """Move the `champion` alias to `version` if its run beat the champion's run.

    Each run's value is the metric's latest value (MLflow's run summary); a
    recipe that restores its best weights should log the final evaluation
    last. A tie keeps the current champion.

    Args:
        name: the registered model.
        version: the version to consider (e.g. from register_candidate).
        metric: the run metric to compare.
        higher_is_better: False for metrics such as val_loss.
        chance_level: the score a model reaches without learning anything,
            e.g. the majority-class rate on the split `metric` measures
            (`zoo.classification.baselines.baselines`). A version that does not beat it
            stays a candidate, with a warning and the reason in its
            `zoo.not_promoted` tag. None skips the check.

    Returns:
        True when `version` is the champion afterwards (promoted now, or
        there was no champion, or it already was); False when it stays a
        candidate.

    Raises:
        TrackingError: the version's run has no such metric.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    candidate = client.get_model_version(name, str(version))
    candidate_value = _run_metric(client, candidate.run_id, metric)
    if candidate_value is None:
        raise TrackingError(
            f"Version {version} of {name!r} comes from run {candidate.run_id}, which has no "
            f"metric {metric!r}; log it in that run or compare with another metric.")
    try:
        champion = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:  # no champion yet
        champion = None
    if champion is not None and str(champion.version) == str(candidate.version):
        return True
    if chance_level is not None:
        beats_chance = (candidate_value > chance_level if higher_is_better
                        else candidate_value < chance_level)
        if not beats_chance:
            reason = (f"its {metric} {candidate_value:.4f} does not beat the chance level "
                      f"{chance_level:.4f} (the majority-class rate): it has learned nothing "
                      "usable")
            _log.warning("Version %s of %r stays a candidate: %s.", version, name, reason)
            client.set_model_version_tag(name, str(candidate.version), NOT_PROMOTED_TAG, reason)
            return False
    if champion is not None:
        champion_value = _run_metric(client, champion.run_id, metric)
        if champion_value is not None:
            better = (candidate_value > champion_value if higher_is_better
                      else candidate_value < champion_value)
            if not better:
                return False
        else:
            _log.warning("The champion (version %s) has no metric %r to compare with; "
                         "version %s replaces it.", champion.version, metric, version)
    client.set_registered_model_alias(name, CHAMPION, candidate.version)
    return True


def _run_metric(client, run_id: str | None, metric: str) -> float | None:
    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    try:
        return client.get_run(run_id).data.metrics.get(metric)
    except MlflowException:  # the run was deleted for good
        return None
