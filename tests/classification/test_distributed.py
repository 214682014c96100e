"""Training under tf.distribute strategies: MirroredStrategy on two logical CPU
devices, MultiWorkerMirroredStrategy on two worker processes on 127.0.0.1."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = textwrap.dedent(
    """
    import sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path.insert(0, {here!r})
    from conftest import colour_dataset
    from zoo.classification import FeatureCache, TrainConfig, train_classifier
    from zoo.classification.trainer import make_strategy

    strategy = make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    train, _, _ = colour_dataset(48, seed=0)
    val, _, _ = colour_dataset(24, seed=1)
    config = TrainConfig(backbone="mobilenet_v3_small", image_size=32, weights=None, epochs=2,
                         batch_size=16, fine_tune_blocks=1, fine_tune_epochs=1,
                         strategy="mirrored")
    result = train_classifier(config, train, val, 3, strategy=strategy, verbose=0,
                              checkpoint_dir={ckpt!r}, feature_cache=FeatureCache({cache!r}))
    print("replicas", strategy.num_replicas_in_sync, "epochs", len(result.history["loss"]),
          "loss", result.history["loss"][0], result.history["loss"][-1])
    """
)


@pytest.mark.slow
def test_mirrored_strategy_over_two_cpu_devices(tmp_path):
    script = SCRIPT.format(here=HERE, ckpt=str(tmp_path / "ckpt"), cache=str(tmp_path / "c"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    words = result.stdout.strip().splitlines()[-1].split()
    assert words[:4] == ["replicas", "2", "epochs", "3"], result.stdout
    first, last = float(words[5]), float(words[6])
    assert last < first  # it learned something


WORKER_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    from zoo.classification import FeatureCache, TrainConfig, train_classifier
    from zoo.training import make_strategy
    from zoo.training.loop import is_chief

    # TensorFlow wants the multi-worker strategy before any other TF work.
    strategy = make_strategy(sys.argv[1]) if sys.argv[1] != "none" else None
    sys.path.insert(0, {here!r})
    from conftest import colour_dataset

    out = sys.argv[2]
    train, _, _ = colour_dataset(48, seed=0)
    val, _, _ = colour_dataset(24, seed=1)
    config = TrainConfig(backbone="mobilenet_v3_small", image_size=32, weights=None, epochs=3,
                         batch_size=16, dropout=0.0, learning_rate=1e-2, patience=10)
    result = train_classifier(config, train, val, 3, strategy=strategy, verbose=0,
                              checkpoint_dir=os.path.join(out, "ckpt"),
                              feature_cache=FeatureCache(os.path.join(out, "cache")))
    np.savez(os.path.join(out, "weights.npz"), *result.model.get_weights())
    json.dump({{"chief": is_chief(strategy), "history": result.history}},
              open(os.path.join(out, "result.json"), "w"))
    """
)


def _run_workers(tmp_path, count, command):
    """Run `command(out_folder)` as `count` workers of one TF_CONFIG cluster on 127.0.0.1."""
    from zoo.tuning.distributed import free_port

    cluster = {"worker": [f"127.0.0.1:{free_port()}" for _ in range(count)]}
    processes = []
    for index in range(count):
        out = tmp_path / f"worker{index}"
        out.mkdir()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(command(out), env=env, text=True, cwd=out,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    try:
        outputs = [process.communicate(timeout=600) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    for process, (_, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    return [tmp_path / f"worker{index}" for index in range(count)], outputs


def _weights(folder):
    with np.load(folder / "weights.npz") as saved:
        return [saved[key] for key in sorted(saved.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.slow
def test_multi_worker_training_on_two_local_processes_matches_one_process(tmp_path):
    """Two workers (TF_CONFIG on 127.0.0.1) train one classifier through the
    shared loop: they end with identical weights, equal to one process's
    training on the same global batches; only the chief keeps checkpoints."""
    script = WORKER_SCRIPT.format(here=HERE)
    workers, _ = _run_workers(tmp_path, 2,
                              lambda out: [sys.executable, "-c", script, "multi_worker", str(out)])
    single = tmp_path / "single"
    single.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", WORKER_SCRIPT.format(here=HERE), "none", str(single)],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]

    chief, other = (json.loads((w / "result.json").read_text()) for w in workers)
    assert chief["chief"] and not other["chief"]
    # Exact: the workers apply one all-reduced update each step, so their
    # replicas are one model. Against one process, the sums run in another order.
    for a, b in zip(_weights(workers[0]), _weights(workers[1])):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(_weights(workers[0]), _weights(single)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    reference = json.loads((single / "result.json").read_text())["history"]
    np.testing.assert_allclose(chief["history"]["loss"], reference["loss"], rtol=1e-4)
    assert chief["history"]["loss"][-1] < chief["history"]["loss"][0]
    # The chief's checkpoints are where they were asked to be; the other
    # worker's went to a temporary folder that is gone.
    assert (workers[0] / "ckpt" / "latest").is_file()
    assert not (workers[1] / "ckpt").exists()


@pytest.mark.slow
def test_classify_recipe_under_multi_worker(tmp_path):
    """`recipes/classify.py --strategy multi_worker` on two local workers: one
    MLflow run, from the chief, which also writes the model."""
    import mlflow

    recipe = os.path.join(os.path.dirname(os.path.dirname(HERE)), "recipes", "classify.py")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    workers, outputs = _run_workers(tmp_path, 2, lambda out: [
        sys.executable, recipe, "--data", "digits", "--image-size", "32", "--epochs", "1",
        "--fine-tune-epochs", "0", "--weights", "none", "--strategy", "multi_worker",
        "--tracking-uri", store,
        "--output-dir", str(out / "run")])
    assert (workers[0] / "run" / "model.keras").is_file()
    assert not (workers[1] / "run" / "model.keras").exists()
    assert "Test accuracy" in outputs[0][0] and "chief holds the run" in outputs[1][0]
    client = mlflow.MlflowClient(tracking_uri=store)
    runs = client.search_runs([client.get_experiment_by_name("classify").experiment_id])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
