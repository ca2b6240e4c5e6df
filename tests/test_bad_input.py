"""Bad input at the command line: every class of mistake ends in one line naming the input, a
non-zero exit, and no damage to what was saved. Through ``graphrnn.cli.main`` as a user runs it.
"""
from __future__ import annotations

import pytest
import torch

from graphrnn.cli import main

QUICK = ["--quick", "--epochs", "1", "--test-size", "40", "--batches", "4"]


@pytest.fixture(scope="module")
def addition_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("addition")
    assert main(["train", "addition", *QUICK, "--out", str(out)]) == 0
    return out


def run(argv, capsys):
    """Exit code and stderr of ``graphrnn ARGV`` (argparse's exits included)."""
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("argv, named", [
    (["--device", "gpu0"], "--device"), (["--threads", "-2"], "--threads"),
    (["--threads", "0"], "--threads"), (["--batch-size", "0"], "--batch-size"),
    (["--lr", "nan"], "--lr"), (["--lr", "-1"], "--lr"), (["--epochs", "0"], "--epochs"),
    (["--hidden", "many"], "--hidden"),
])
def test_bad_flags_are_refused_before_any_work(argv, named, tmp_path, capsys):
    code, err = run(["train", "addition", *argv, "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and named in err.strip().splitlines()[-1]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv, named", [
    (["--num", "-3"], "--num"), (["--temperature", "nan"], "--temperature"),
    (["--top-k", "0"], "--top-k"),
])
def test_bad_generate_flags_are_refused_before_the_checkpoint_is_read(argv, named, tmp_path,
                                                                    capsys):
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"never read")
    code, err = run(["generate", "poems", *argv, "--checkpoint", str(checkpoint)], capsys)
    assert code == 2 and named in err.strip().splitlines()[-1]


def test_only_rank_zero_reports_under_torchrun(addition_run, capsys, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    assert main(["evaluate", "addition", "--checkpoint", str(addition_run / "best.pt")]) == 0
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("RANK", "0")
    assert main(["evaluate", "addition", "--checkpoint", str(addition_run / "best.pt")]) == 0
    assert "exact match" in capsys.readouterr().out


def test_output_path_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    code, err = run(["train", "addition", "--out", str(target)], capsys)
    assert code == 2 and f"--out {target}: exists and is not a folder" in err
    assert target.read_text() == "mine"


def test_checkpoint_folder_instead_of_file(addition_run, capsys):
    code, err = run(["evaluate", "addition", "--checkpoint", str(addition_run)], capsys)
    assert code == 2 and "is a folder; give the file itself" in err


def test_damaged_checkpoint_is_refused_naming_the_part(addition_run, tmp_path, capsys):
    damaged = tmp_path / "best.pt"
    raw = bytearray((addition_run / "best.pt").read_bytes())
    clean = torch.load(addition_run / "best.pt", weights_only=True)["model"]
    # flip the bytes of the largest weight: find them by value in the stored archive
    name, weight = max(clean.items(), key=lambda kv: kv[1].numel())
    data = weight.contiguous().numpy().tobytes()
    start = bytes(raw).index(data)
    for i in range(start + 8, start + 8 + 64):
        raw[i] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    code, err = run(["evaluate", "addition", "--checkpoint", str(damaged)], capsys)
    assert code == 1 and f"is damaged: model ({name})" in err


def test_checkpoint_of_another_application(addition_run, capsys):
    code, err = run(["evaluate", "tpsa", "--checkpoint", str(addition_run / "best.pt")], capsys)
    assert code == 1 and "written by 'graphrnn train addition', not by 'graphrnn train tpsa'" in err


def test_resume_with_changed_settings_names_them(addition_run, tmp_path, capsys):
    import shutil

    out = tmp_path / "resumed"
    shutil.copytree(addition_run, out)
    code, err = run(["train", "addition", *QUICK, "--out", str(out), "--resume", "--lr", "0.5",
                     "--hidden", "64"], capsys)
    assert code == 1 and "settings differ" in err and "lr 0.5 (was 0.01)" in err
    assert "hidden 64 (was 32)" in err


def test_unsafe_checkpoint_refusal_gives_no_advice_to_turn_safety_off(tmp_path, capsys):
    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "graphrnn.checkpoint", "x": Payload()}, path)
    code, err = run(["evaluate", "addition", "--checkpoint", str(path)], capsys)
    assert code == 1 and "refusing to load it" in err and "weights_only" not in err


def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(tmp_path, capsys, monkeypatch):
    import graphrnn.models.addition as addition

    step, calls = addition.addition_step, []

    def interrupted_in_epoch_two(model, batch):
        calls.append(model.training)
        if sum(calls) > 4:  # the first training batch of the second epoch
            raise KeyboardInterrupt
        return step(model, batch)

    monkeypatch.setattr(addition, "addition_step", interrupted_in_epoch_two)
    out = tmp_path / "run"
    code, err = run(["train", "addition", *QUICK[:1], "--epochs", "3", "--batches", "4",
                     "--test-size", "40", "--out", str(out)], capsys)
    assert code == 130
    assert f"the last finished epoch is in {out / 'last.pt'}" in err
    assert f"--out {out}" in err and err.strip().endswith("--resume")
    assert (out / "curves.png").is_file()


LATIN1 = "naïve café".encode("latin-1")


@pytest.mark.parametrize("app, flags, name, content", [
    ("sst", ["--train", "{f}", "--dev", "{f}", "--test", "{f}"], "trees.txt",
     b"(3 (2 It) (4 good))\n(2 (2 " + LATIN1 + b") (2 x))\n"),
    ("conll_chunking", ["--train", "{f}", "--dev", "{f}", "--test", "{f}"], "train.txt",
     b"He PRP B-NP\n" + LATIN1 + b" NN I-NP\n"),
    ("molecules", ["--csv", "{f}", "--smiles-col", "smiles", "--target-col", "y"], "mols.csv",
     b"smiles,y\nCCO,1.0\nC" + LATIN1 + b",2.0\n"),
    ("narx", ["--csv", "{f}", "--input-col", "u", "--output-col", "y"], "series.csv",
     b"u,y\n0.1,0.2\n" + LATIN1 + b",0.3\n"),
])
def test_data_files_that_are_not_utf8_are_named_with_their_line(app, flags, name, content,
                                                                 tmp_path, capsys):
    path = tmp_path / name
    path.write_bytes(content)
    argv = ["train", app, *[a.format(f=path) for a in flags], "--out", str(tmp_path / "run")]
    code, err = run(argv, capsys)
    line = content[:content.index(LATIN1)].count(b"\n") + 1
    assert code == 1 and f"{path}:{line}: byte 0xef at column" in err and "not UTF-8 text" in err


@pytest.mark.parametrize("app", ["sst", "esol", "poems", "conll_chunking"])
def test_missing_data_folder_is_named_and_nothing_is_created(app, tmp_path, capsys):
    root = tmp_path / "nowhere"
    code, err = run(["train", app, "--root", str(root), "--out", str(tmp_path / "run")], capsys)
    assert code == 1 and str(root) in err and "--root" in err
    assert len(err.strip().splitlines()) == 2  # the message and the GRAPHRNN_DEBUG hint
    assert not root.exists() and not (tmp_path / "run").exists()
