"""`zoo tune` arguments: parsing, the argv a launcher passes on, bad input."""

import argparse

from zoo.tuning.cli import add_tune_command, main
from zoo.tuning.options import options_from_args, options_to_argv


def parse(argv):
    parser = argparse.ArgumentParser()
    add_tune_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["tune", *argv])


def test_arguments_become_options_and_back():
    args = parse(["--tuner", "hyperband", "--backbones", "resnet50,vgg16", "--epochs", "9",
                  "--space", "head=mlp", "--space", "learning_rate=1e-4:1e-2",
                  "--space", "dropout=0.1,0.3", "--register", "digits", "--retrain-on-all"])
    options = options_from_args(args)
    assert options.tuner == "hyperband" and options.backbones == ["resnet50", "vgg16"]
    assert options.space == {"head": "mlp", "learning_rate": (1e-4, 1e-2),
                             "dropout": [0.1, 0.3]}
    assert options.role == "single" and options.retrain_on_all
    again = options_from_args(parse(options_to_argv(options)))
    assert again == options


def test_roles():
    assert options_from_args(parse(["--chief"])).role == "chief"
    worker = options_from_args(parse(["--worker", "1"]))
    assert (worker.role, worker.worker_id) == ("worker", 1)


def test_bad_space_exits_2_with_one_message(capsys):
    assert main(["--space", "colour=red"]) == 2
    assert "Unknown search space name 'colour'" in capsys.readouterr().err


def test_a_worker_refuses_sqlite(capsys, tmp_path):
    assert main(["--worker", "0", "--tracking-uri", f"sqlite:///{tmp_path}/m.db",
                 "--project-dir", str(tmp_path / "p")]) == 2
    assert "tracking server" in capsys.readouterr().err
