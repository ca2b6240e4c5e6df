"""Config dataclasses as the command line: flags, defaults, presets and checks before any work."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import pytest

from graphrnn.apps.config import (
    ConfigError,
    EvaluateConfig,
    TrainConfig,
    build_parser,
    check_config,
    config_from_dict,
    option,
    parse_config,
)


@dataclass
class Toy(TrainConfig):
    hidden: int = option(8, "hidden units", min=1)
    lr: float = option(1e-3, "learning rate", positive=True)
    cell: str = option("gru", "cell", choices=("gru", "lstm"))
    dropout: float = option(0.0, "dropout", min=0, max=1)
    widths: list[int] = option([4, 8], "layer widths", min=1)
    embedding_dim: int | None = option(None, "embedding size", min=1)
    bias: bool = option(True, "use a bias")


def parse(argv):
    return parse_config(Toy, argv, "graphrnn train toy")


def test_fields_become_flags_with_defaults():
    config = parse(["--hidden", "16"])
    assert config.hidden == 16 and config.lr == 1e-3 and config.cell == "gru"
    assert config.threads == 1 and config.device == "cpu" and config.widths == [4, 8]
    assert parse(["--widths", "2", "3", "--embedding-dim", "5", "--no-bias"]) == Toy(
        widths=[2, 3], embedding_dim=5, bias=False)


def test_presets_replace_defaults_and_flags_still_win():
    parser = build_parser(Toy, "toy", defaults={"hidden": 64, "cell": "lstm"})
    assert parser.parse_args([]).hidden == 64
    assert parser.parse_args(["--hidden", "2"]).hidden == 2
    assert "(default: 64)" in parser.format_help()


@pytest.mark.parametrize("argv, flag", [
    (["--threads", "0"], "--threads"), (["--threads", "-2"], "--threads"),
    (["--lr", "nan"], "--lr"), (["--lr", "-1"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--epochs", "0"], "--epochs"), (["--hidden", "2.5"], "--hidden"),
    (["--dropout", "1.5"], "--dropout"), (["--widths", "4", "0"], "--widths"),
    (["--cell", "rnn"], "--cell"), (["--device", "gpu0"], "--device"),
])
def test_bad_values_exit_with_one_line_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err.splitlines()[-1] and "Traceback" not in err


def test_output_folder_checked_before_any_work(tmp_path, capsys):
    afile = tmp_path / "results.txt"
    afile.write_text("keep me")
    with pytest.raises(SystemExit):
        parse(["--out", str(afile)])
    assert "exists and is not a folder" in capsys.readouterr().err
    assert afile.read_text() == "keep me"
    config = parse(["--out", str(tmp_path / "new" / "deeper")])
    assert not (tmp_path / "new").exists()  # checked, nothing created
    assert config.out.endswith("deeper")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_folder(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SystemExit):
        parse(["--out", str(locked / "run")])
    assert "permission denied" in capsys.readouterr().err


def test_checkpoint_must_be_a_file(tmp_path, capsys):
    for value, message in ((str(tmp_path), "is a folder"),
                           (str(tmp_path / "x.pt"), "no such file")):
        with pytest.raises(SystemExit):
            parse_config(EvaluateConfig, ["--checkpoint", value], "graphrnn evaluate toy")
        assert message in capsys.readouterr().err


def test_check_config_on_objects_built_in_python():
    with pytest.raises(ConfigError, match="--hidden must be >= 1, got 0"):
        check_config(Toy(hidden=0))
    check_config(Toy())


def test_config_round_trips_through_a_checkpoint_record():
    config = Toy(hidden=3, widths=[1])
    assert config_from_dict(Toy, dataclasses.asdict(config)) == config
    with pytest.raises(ConfigError, match="settings colour are not settings of"):
        config_from_dict(Toy, {"colour": "red"}, "checkpoint x.pt")


def test_a_list_option_given_twice_is_an_error_not_a_silent_replacement(capsys):
    assert parse(["--widths", "2", "3"]).widths == [2, 3]
    with pytest.raises(SystemExit):
        parse(["--widths", "2", "--widths", "3"])
    assert ("--widths was given twice; list every value after one --widths"
            in capsys.readouterr().err)
