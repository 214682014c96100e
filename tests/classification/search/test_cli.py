"""`zoo tune` arguments: parsing, the argv a launcher passes on, bad input."""

import argparse

import pytest

from zoo.classification.search.cli import add_commands, main
from zoo.classification.search.options import options_from_args, options_to_argv


def parse(argv):
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
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


def test_keras_tuner_variables_mean_chief_and_worker():
    chief = options_from_args(parse([]), {"KERASTUNER_TUNER_ID": "chief",
                                          "KERASTUNER_ORACLE_IP": "10.0.0.5",
                                          "KERASTUNER_ORACLE_PORT": "9000"})
    assert (chief.role, chief.worker_id, chief.oracle_host, chief.oracle_port) == (
        "chief", None, "10.0.0.5", 9000)
    worker = options_from_args(parse([]), {"KERASTUNER_TUNER_ID": "tuner1",
                                           "KERASTUNER_ORACLE_IP": "127.0.0.1",
                                           "KERASTUNER_ORACLE_PORT": "8765"})
    assert (worker.role, worker.worker_id) == ("worker", 1)
    # Flags and variables that agree are fine.
    same = options_from_args(parse(["--worker", "1", "--oracle-port", "8765"]),
                             {"KERASTUNER_TUNER_ID": "tuner1", "KERASTUNER_ORACLE_PORT": "8765"})
    assert (same.role, same.worker_id, same.oracle_port) == ("worker", 1, 8765)


def test_a_flag_and_a_variable_that_disagree_exit_2_naming_both(capsys, monkeypatch):
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    assert main(["--worker", "1"]) == 2
    err = capsys.readouterr().err
    assert "--worker 1" in err and "KERASTUNER_TUNER_ID=tuner0" in err
    assert main(["--chief"]) == 2
    assert "--chief" in capsys.readouterr().err
    assert main(["--launch-workers", "2"]) == 2
    assert "KERASTUNER_TUNER_ID" in capsys.readouterr().err
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "10.0.0.5")
    assert main(["--oracle-host", "10.0.0.6"]) == 2
    err = capsys.readouterr().err
    assert "--oracle-host 10.0.0.6" in err and "KERASTUNER_ORACLE_IP=10.0.0.5" in err
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker-a")
    assert main([]) == 2
    assert "'chief' or 'tuner<N>'" in capsys.readouterr().err
    monkeypatch.delenv("KERASTUNER_TUNER_ID")
    assert main([]) == 2  # an oracle address, but no role
    assert "KERASTUNER_ORACLE_IP is set" in capsys.readouterr().err


def test_the_recipe_exits_2_on_a_conflict(monkeypatch, capsys):
    from recipes.tune_classifier import parse_args

    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--worker", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--worker 0" in err and "KERASTUNER_TUNER_ID=chief" in err


def test_oracle_host_and_search_name_round_trip_and_the_exposure_warning():
    from zoo.tuning.distributed import oracle_exposure_warning

    options = options_from_args(parse(["--chief", "--oracle-host", "10.0.0.5",
                                       "--search-name", "flowers", "--worker-timeout", "90"]))
    assert (options.oracle_host, options.search_name) == ("10.0.0.5", "flowers")
    assert options.worker_timeout == 90.0
    again = options_from_args(parse(options_to_argv(options) + ["--chief"]))
    assert again == options
    assert oracle_exposure_warning("127.0.0.1") is None
    assert oracle_exposure_warning("localhost") is None
    for exposed in ("0.0.0.0", "10.0.0.5", "node1.cluster"):
        text = oracle_exposure_warning(exposed)
        assert "no authentication" in text and "SSH tunnel" in text


def test_a_worker_timeout_that_is_not_positive_exits_2_naming_it(capsys):
    assert main(["--chief", "--worker-timeout", "0"]) == 2
    assert "--worker-timeout" in capsys.readouterr().err
