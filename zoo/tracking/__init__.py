"""MLflow tracking for zoo's recipes: one run per invocation.

    from zoo.tracking import (MlflowMetricsCallback, log_config, log_keras_model,
                              standard_tags, tracked_run)

    with tracked_run("classify", tracking_uri=args.tracking_uri, run_id=resume_id,
                     tags=standard_tags("classify", backbone="resnet50",
                                        data_source=source, data_digest=digest)) as run:
        log_config(config)                                # params + config.json
        model.fit(..., callbacks=[MlflowMetricsCallback()])
        model.fit(..., initial_epoch=5, callbacks=[MlflowMetricsCallback()])  # steps go on
        info = log_keras_model(model, images[:2])
        if args.register:
            version = register_candidate(info.model_uri, args.register)
            promote_if_better(args.register, version)

The modules, one job each:

    store.py      which tracking store (URI resolution, artifact folder)
    params.py     what describes a run: flattened config, standard tags
    runs.py       start/resume/end a run; FAILED, KILLED, SIGTERM, stale runs; a server
                  that does not answer is reported before the run starts
    spool.py      metrics queued on disk and sent in the background
    flush.py      send a spool file a run left behind (flush_spool)
    cli.py        the `zoo ui` and `zoo tracking flush` commands
    offline.py    end-of-run files kept in the spool while the server is away
    callback.py   the Keras callback that logs per-epoch metrics
    artifacts.py  config file, plots, dataset identity, the Keras model
    registry.py   candidate and champion aliases; chance-level models stay candidates
    ui.py         the MLflow UI `zoo ui` starts, and how to open it

Importing zoo.tracking imports neither MLflow nor Keras (each helper imports
MLflow when called); MlflowMetricsCallback, which must subclass a Keras class,
loads Keras on first access.
"""

from typing import TYPE_CHECKING

from zoo._lazy import lazy_attributes

from zoo.tracking.artifacts import log_config, log_dataset, log_keras_model, log_plot
from zoo.errors import TrackingError
from zoo.tracking.flush import flush_spool
from zoo.tracking.params import flatten_config, git_commit, standard_tags
from zoo.tracking.registry import CANDIDATE, CHAMPION, promote_if_better, register_candidate
from zoo.tracking.runs import RunTerminated, close_stale_run, require_reachable, tracked_run
from zoo.tracking.spool import MetricSpool
from zoo.tracking.store import resolve_tracking_uri
from zoo.tracking.ui import open_ui_command

if TYPE_CHECKING:  # what IDEs and type checkers see; _LAZY loads them on first use
    from zoo.tracking.callback import MlflowMetricsCallback  # noqa: F401

# Public name -> module that defines it, imported on first access.
_LAZY = {"MlflowMetricsCallback": "zoo.tracking.callback"}

__getattr__, __dir__ = lazy_attributes("zoo.tracking", globals(), _LAZY)


__all__ = [
    "CANDIDATE",
    "CHAMPION",
    "MetricSpool",
    "RunTerminated",
    "TrackingError",
    "open_ui_command",
    "close_stale_run",
    "flatten_config",
    "flush_spool",
    "git_commit",
    "log_config",
    "log_dataset",
    "log_keras_model",
    "log_plot",
    "promote_if_better",
    "register_candidate",
    "require_reachable",
    "resolve_tracking_uri",
    "standard_tags",
    "tracked_run",
    *_LAZY,
]
