"""``graphrnn train|evaluate|generate seq2seq`` (alias ``dialogue``) on a small hand-made file of
(context, response) pairs; ``--interactive`` read from a piped stdin."""
from __future__ import annotations

import io
import sys

import pytest
import torch

from graphrnn import apps
from graphrnn.cli import main

torch.set_num_threads(1)
CHAT = [("hello", "hi there !"), ("how are you ?", "fine , thanks ."),
        ("what is your name ?", "i am a bot ."), ("good night", "sleep well !"),
        ("thank you", "you are welcome ."), ("bye", "see you soon !"),
        ("do you like tea ?", "yes , with milk ."), ("where are you ?", "on this machine ."),
        ("how old are you ?", "a few minutes old ."), ("good morning", "morning !")]


def chat_file(path, extra=()):
    """Three columns (id, context, response): the response is column 2."""
    lines = [f"{i}\t{a}\t{b}" for i, (a, b) in enumerate(CHAT * 3)]
    path.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return path


def test_train_then_reply_interactively_and_once(tmp_path, capsys, monkeypatch):
    pairs = chat_file(tmp_path / "chat.tsv")
    out = tmp_path / "run"
    results = apps.call("dialogue", "train", ["--quick", "--pairs", str(pairs), "--src-col", "1",
                                              "--tgt-col", "2", "--valid", "2", "--test", "2",
                                              "--beam", "2", "--out", str(out)])
    assert results["epochs"] == 3 and results["data"]["train"]["pairs"] == 24
    assert results["best_val_loss"] > 0 and "tok:13a" in results["bleu_signature"]
    assert {"test_bleu_greedy", "test_bleu_beam2"} <= set(results)
    losses = [row["train_loss"] for row in results["history"]]
    assert losses[-1] < losses[0]  # it learns (the model tests overfit pairs outright)
    for name in ("best.pt", "metrics.csv", "curves.png", "results.json"):
        assert (out / name).is_file(), name
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\n\nhow are you ?\nbye\n"))
    replies = apps.call("seq2seq", "generate", ["--checkpoint", str(out / "best.pt"),
                                                "--interactive"])["replies"]
    assert [r["input"] for r in replies] == ["hello", "how are you ?", "bye"]  # blank skipped
    printed = capsys.readouterr().out.splitlines()
    assert printed == [r["reply"] for r in replies]  # one line in, one reply out
    once = apps.call("seq2seq", "generate", ["--checkpoint", str(out / "best.pt"), "--text",
                                             "hello"])["replies"]
    assert once == replies[:1]  # the same greedy reply
    scores = apps.call("seq2seq", "evaluate", ["--checkpoint", str(out / "best.pt"),
                                               "--beam", "2"])
    assert scores["test_bleu_greedy"] == pytest.approx(results["test_bleu_greedy"])


def test_malformed_pairs_and_bad_flags_are_one_line_errors(tmp_path, capsys):
    short = chat_file(tmp_path / "short.tsv", ["31\tonly a context"])
    code = main(["train", "seq2seq", "--quick", "--pairs", str(short), "--src-col", "1",
                 "--tgt-col", "2", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and "short.tsv:31: 2 tab-separated column(s), expected at least 3" in err
    empty = chat_file(tmp_path / "empty.tsv", ["31\t \tresponse"])
    code = main(["train", "seq2seq", "--quick", "--pairs", str(empty), "--src-col", "1",
                 "--tgt-col", "2", "--out", str(tmp_path / "run")])
    assert code == 1 and "empty.tsv:31: empty source (column 1)" in capsys.readouterr().err
    code = main(["train", "seq2seq", "--quick", "--out", str(tmp_path / "run")])
    assert code == 1 and "--pairs FILE is required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "seq2seq", "--pairs", str(tmp_path / "missing.tsv")])
    assert "missing.tsv: no such file" in capsys.readouterr().err
