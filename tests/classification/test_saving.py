"""A saved zoo classifier loads with plain Keras, safe_mode on, without zoo."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zoo
from zoo.backbones import BACKBONES

# The family contract (tests/classification/test_contract.py) loads one
# backbone per preprocessing mode without zoo; the slow test here loads one of
# every other architecture, custom Keras layers included (InceptionResNetV2's
# scale layer, ConvNeXt's LayerScale). Deeper members of an architecture
# (ResNet101, EfficientNetV2-S...) are built by the same Keras function from
# the same layers, so they add minutes and no layer type.
QUICK = ["resnet50", "xception", "densenet121", "mobilenet_v3_small"]


def _one_per_architecture():
    first = {}
    for name, spec in BACKBONES.items():
        first.setdefault(spec.family, name)
    covered = {BACKBONES[name].family for name in QUICK}
    return [name for family, name in first.items() if family not in covered]


LOADER = textwrap.dedent(
    """
    import json, sys
    sys.modules["zoo"] = None  # make `import zoo` fail in this process
    try:
        import zoo  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("zoo is importable, the test would prove nothing")
    import keras
    import numpy as np
    cases = json.loads(sys.argv[1])
    for case in cases:
        model = keras.models.load_model(case["model"], safe_mode=True)
        got = model.predict(np.load(case["images"]), verbose=0)
        np.save(case["output"], got)
    print("loaded", len(cases))
    """
)


def _save_cases(names, tmp_path):
    cases, expected = [], {}
    for name in names:
        spec = zoo.backbone_info(name)
        model = zoo.create_classifier(name, 3, weights=None, input_shape=spec.min_size,
                                      head="mlp", hidden_units=8)
        images = np.random.default_rng(3).integers(
            0, 256, (2, spec.min_size, spec.min_size, 3), dtype=np.uint8)
        expected[name] = model.predict(images, verbose=0)
        case = {key: str(tmp_path / f"{name}.{suffix}") for key, suffix in
                (("model", "keras"), ("images", "npy"), ("output", "out.npy"))}
        model.save(case["model"])
        np.save(case["images"], images)
        cases.append(case)
    return cases, expected


def _load_elsewhere(cases, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", LOADER, json.dumps(cases)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"loaded {len(cases)}" in result.stdout


def _check_round_trip(names, tmp_path):
    cases, expected = _save_cases(names, tmp_path)
    _load_elsewhere(cases, tmp_path)
    for name, case in zip(names, cases):
        np.testing.assert_allclose(np.load(case["output"]), expected[name], rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_round_trip_in_process(tmp_path):
    import keras

    model = zoo.create_classifier("resnet50", 4, weights=None, input_shape=32)
    images = np.random.default_rng(4).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    path = tmp_path / "resnet50.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(images, verbose=0),
                               model.predict(images, verbose=0), rtol=1e-5)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.slow
def test_round_trip_without_zoo_every_architecture(tmp_path):
    _check_round_trip(_one_per_architecture(), tmp_path)
