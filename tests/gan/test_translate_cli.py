"""`zoo translate`: saved generators on image files of any size."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from zoo import cli
from zoo.gan import unet_generator
from zoo.gan.inference import translate, uint8_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The same tiny U-Net saved as a float generator and as a uint8 model."""
    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(0)
    generator = unet_generator(16, ngf=4)
    paths = {"float": str(folder / "generator.keras"), "uint8": str(folder / "translator.keras")}
    generator.save(paths["float"])
    uint8_model(generator).save(paths["uint8"])
    return paths


@pytest.fixture
def photos(tmp_path):
    """37x53 PNG and 300x437 JPEG at the top, a PNG in a subfolder, a hidden file."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)).save(folder / "small.png")
    Image.fromarray(rng.integers(0, 256, (300, 437, 3), dtype=np.uint8)).save(folder / "big.jpg")
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(folder / "sub/c.png")
    (folder / ".hidden.png").write_bytes(b"ignored")
    return folder


def _main(args, capsys):
    code = cli.main(["translate", *map(str, args)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured


@pytest.mark.parametrize("kind", ["uint8", "float"])
def test_translates_a_folder_at_every_image_size(kind, models, photos, tmp_path, capsys):
    out = tmp_path / "out"
    code, captured = _main([models[kind], photos, "--out", out], capsys)
    assert code == 0, captured.err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == \
        ["big.png", "small.png", "sub", os.path.join("sub", "c.png")]
    for name, size in (("big.png", (437, 300)), ("small.png", (53, 37)), ("sub/c.png", (30, 20))):
        assert Image.open(out / name).size == size
    model = keras.saving.load_model(models["uint8"], safe_mode=True)
    small = np.asarray(Image.open(photos / "small.png"))
    np.testing.assert_array_equal(np.asarray(Image.open(out / "small.png")),
                                  translate(model, small))
    assert "wrote 3 images" in captured.err


def test_tiles_a_single_file(models, photos, tmp_path, capsys):
    code, captured = _main([models["uint8"], photos / "big.jpg", "--out", tmp_path / "out",
                            "--tile", 64], capsys)
    assert code == 0, captured.err
    assert Image.open(tmp_path / "out" / "big.png").size == (437, 300)
    code, captured = _main([models["uint8"], photos / "big.jpg", "--out", tmp_path / "o2",
                            "--tile", 40], capsys)
    assert code == 2 and "--tile 40 must be a multiple of 16" in captured.err


def test_unreadable_image_is_skipped_and_counted(models, photos, tmp_path, capsys):
    (photos / "broken.png").write_bytes(b"not a png at all")
    code, captured = _main([models["uint8"], photos, "--out", tmp_path / "out"], capsys)
    assert code == 2
    assert "skipped" in captured.err and "broken.png" in captured.err
    assert "1 of 4 input images could not be read" in captured.err
    assert (tmp_path / "out" / "small.png").is_file()
    assert not (tmp_path / "out" / "broken.png").exists()


def test_existing_output_needs_overwrite(models, photos, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "small.png").write_bytes(b"keep me")
    code, captured = _main([models["uint8"], photos / "small.png", "--out", out], capsys)
    assert code == 2 and "--overwrite" in captured.err and "small.png" in captured.err
    assert (out / "small.png").read_bytes() == b"keep me"
    code, captured = _main([models["uint8"], photos / "small.png", "--out", out,
                            "--overwrite"], capsys)
    assert code == 0
    assert Image.open(out / "small.png").size == (53, 37)


def test_direction_picks_a_generator_of_a_cyclegan_folder(tmp_path, photos, capsys):
    """A CycleGAN run's folder holds both generators; --direction picks one."""
    from zoo.gan import resnet_generator
    from zoo.gan.cyclegan.resnet import with_image_size
    from zoo.gan.cyclegan import GENERATOR_FILES

    folder = tmp_path / "generators"
    folder.mkdir()
    keras.utils.set_random_seed(0)
    generators = {}
    for direction, name in GENERATOR_FILES.items():
        generators[direction] = uint8_model(with_image_size(resnet_generator(1, ngf=4)))
        generators[direction].save(folder / name)
    image = np.asarray(Image.open(photos / "small.png"))
    for direction, arguments in (("AtoB", []), ("AtoB", ["--direction", "AtoB"]),
                                 ("BtoA", ["--direction", "BtoA"])):
        out = tmp_path / f"out-{len(arguments)}-{direction}"
        code, _ = _main([folder, photos / "small.png", "--out", out, *arguments], capsys)
        assert code == 0
        written = np.asarray(Image.open(out / "small.png"))
        np.testing.assert_array_equal(written, translate(generators[direction], image))
    # The two generators differ, so the choice is visible in the output.
    assert not np.array_equal(translate(generators["AtoB"], image),
                              translate(generators["BtoA"], image))
    (folder / GENERATOR_FILES["BtoA"]).unlink()
    code, captured = _main([folder, photos, "--out", tmp_path / "x", "--direction", "BtoA"],
                           capsys)
    assert code == 2 and "generator_BtoA.keras" in captured.err


def test_bad_models_and_inputs_are_one_line_errors(models, photos, tmp_path, capsys):
    not_a_model = tmp_path / "notes.keras"
    not_a_model.write_text("hello")
    cases = [
        ([tmp_path / "missing.keras", photos], "MODEL '", "does not exist"),
        ([not_a_model, photos], "could not be loaded as a Keras model", ""),
        ([models["uint8"], tmp_path / "nowhere"], "INPUT '", "does not exist"),
        ([models["uint8"], photos], "would both be written to", "small.png"),
        ([models["uint8"], photos, "--direction", "BtoA"], "--direction BtoA", "is one"),
        ([tmp_path, photos], "is a folder without", "generator_AtoB.keras"),
    ]
    for args, first, second in cases:
        if first in ("would both be written to", "--direction BtoA"):
            (photos / "small.jpg").write_bytes((photos / "small.png").read_bytes())
        code, captured = _main([*args, "--out", tmp_path / "out"], capsys)
        assert code == 2, args
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("zoo: error:"), captured.err
        assert first in lines[0] and second in lines[0]
    assert not (tmp_path / "out").exists()


def test_help_does_not_import_tensorflow():
    probe = ("import sys\nfrom zoo.cli import build_parser\nbuild_parser()\n"
             "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr
