"""Nothing of a finished trial stays alive: TensorFlow graphs and registered
gradients do not pile up trial after trial (what makes RSS grow in a long
search; benchmarks/tuning_memory.py measures the RSS itself)."""

import pytest
import gc

from zoo.compat import custom_gradient_registry
from zoo.classification.search.search import run_search


def live_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


def custom_gradients() -> int:
    return sum(name.startswith("CustomGradient-") for name in custom_gradient_registry())


@pytest.mark.slow
def test_graphs_and_gradients_of_finished_trials_are_released(search_options):
    seen = {}

    def progress(line):
        if line.startswith("["):
            done = int(line[1:line.index("/")])
            if done % 2 == 0:  # a scan of every live object takes a few seconds
                seen[done] = (live_graphs(), custom_gradients())

    run_search(search_options(max_trials=6, epochs=1, median_stopping=False,
                              space={"head": "mlp", "dropout": 0.0,
                                     "learning_rate": (1e-3, 1e-2)}), progress=progress)
    assert sorted(seen) == [2, 4, 6]
    graphs, gradients = zip(*(seen[n] for n in (2, 4, 6)))
    # A trial's train and test steps are dozens of graphs: a leak would add them each time.
    assert max(graphs) - min(graphs) <= 5, seen
    assert max(gradients) == min(gradients), seen
