"""graphrnn train|evaluate|generate lm on a few KB of generated text: the table (best N-gram and
the RNN on the same tokens), checkpoint, curves, re-scoring, samples; one-file and character
corpora, NT-ASGD; missing files and bad flags as one line; the presets skip without the data."""
import json
import random

import pytest

from graphrnn.apps import call
from graphrnn.cli import main
from graphrnn.io import shared_data
from graphrnn.train import load_checkpoint

SUBJECTS = ["the cat", "a dog", "the man", "my friend", "the bird", "a child"]
VERBS = ["sees", "likes", "eats", "finds", "wants", "hears"]
OBJECTS = ["the fish", "a ball", "the tree", "some bread", "the sky", "a book"]


def sentences(n, seed):
    r = random.Random(seed)
    return [f"{r.choice(SUBJECTS)} {r.choice(VERBS)} {r.choice(OBJECTS)} ." for _ in range(n)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    for i, (name, n) in enumerate((("train", 400), ("valid", 40), ("test", 40))):
        (folder / f"{name}.txt").write_text("\n".join(sentences(n, i)) + "\n", encoding="utf-8")
    return {k: str(folder / f"{k}.txt") for k in ("train", "valid", "test")}


SMALL = ["--hidden", "24", "--embedding-dim", "24", "--layers", "1", "--batch-size", "4",
         "--bptt", "12", "--orders", "2", "3", "--threads", "1"]


@pytest.fixture(scope="module")
def run(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = call("lm", "train", ["--train", files["train"], "--valid", files["valid"],
                                  "--test", files["test"], "--epochs", "2", "--out", str(out),
                                  "--tied", "--dropout", "0.1", "--locked", "--weight-dropout",
                                  "0.2", "--embedding-dropout", "0.1", *SMALL])
    return out, result


def test_train_prints_one_table_on_the_same_tokens_and_writes_its_files(run):
    out, result = run
    table = result["table"]
    # 40 sentences of 6 tokens, each with its <eos>, in valid and in test
    assert table["tokens"] == {"valid": 280, "test": 280}
    ngram, rnn = table["rows"]
    assert ngram["order"] in (2, 3) and ngram["smoothing"] in ("kn", "mkn")
    assert rnn["model"] == "RNN LSTM 1x24 (stream)"
    assert all(1 < row[s] < 40 for row in table["rows"] for s in ("valid", "test"))
    assert table["test_reduction"] == pytest.approx(1 - rnn["test"] / ngram["test"])
    assert len(table["ngram_candidates"]) == 2 * (1 + 7)  # orders 2, 3: mkn and 7 kn discounts
    assert len(result["history"]) == 2 and len(result["samples"]) == 3
    for name in ("best.pt", "last.pt", "metrics.csv", "curves.png", "results.json"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "results.json").read_text())
    assert saved["table"]["rows"][1]["test"] == pytest.approx(rnn["test"])
    assert load_checkpoint(out / "best.pt")["config"]["app"] == "lm"


def test_evaluate_rescores_the_checkpoint_and_generate_continues_a_prompt(run):
    out, result = run
    table = call("lm", "evaluate", ["--out", str(out), "--orders", "2", "3", "--sentence"])
    assert table["rows"][1]["test"] == pytest.approx(result["table"]["rows"][1]["test"],
                                                     rel=1e-6)
    assert table["rows"][2]["model"].startswith("same RNN, sentence at a time")
    made = call("lm", "generate", ["--out", str(out), "--prompt", "the cat", "--num", "4",
                                   "--seed", "3", "--temperature", "1.0", "--top-k", "5"])
    assert len(made["samples"]) == 4 and all(s.startswith("the cat") for s in made["samples"])
    again = call("lm", "generate", ["--out", str(out), "--prompt", "the cat", "--num", "4",
                                    "--seed", "3", "--temperature", "1.0", "--top-k", "5"])
    assert again["samples"] == made["samples"]


def test_one_file_at_character_level_with_adam_random_windows_and_nt_asgd(files, tmp_path):
    result = call("lm", "train", ["--text", files["train"], "--level", "char", "--epochs", "3",
                                  "--optimizer", "adam", "--random-bptt", "--asgd", "--nonmono",
                                  "1", "--out", str(tmp_path), *SMALL])
    corpus = result["corpus"]
    # distinct lines split 90/5/5; the stream predicts each character and each line's end
    assert corpus["valid"]["predicted"] == corpus["valid"]["tokens"] + corpus["valid"]["sentences"]
    assert result["vocab_size"] < 40                       # characters, not words
    assert result["table"]["tokens"]["test"] == corpus["test"]["predicted"]
    assert all(" " in s or len(s) < 3 for s in result["samples"])
    state = load_checkpoint(tmp_path / "last.pt")["model"]
    assert "average.n_averaged" in state and "triggered" in state


def test_missing_file_and_bad_flags_are_one_line(files, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "lm", "--train", str(tmp_path / "nope.txt"), "--valid", files["valid"],
              "--test", files["test"]])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith(f"--train {tmp_path / 'nope.txt'}: no such file")
    assert main(["train", "lm", "--dataset", "conll2000", "--root", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "none") in err and "Traceback" not in err
    for argv, named in ((["--train", files["train"]], "--valid, --test missing"),
                        (["--text", files["train"], "--reader", "csv"], "--reader must be"),
                        ([], "give the text as --train")):
        assert main(["train", "lm", "--out", str(tmp_path / "o"), *argv]) == 1
        err = capsys.readouterr().err
        assert named in err and "Traceback" not in err and len(err.strip().splitlines()) == 2
    with pytest.raises(SystemExit):
        main(["train", "lm", "--level", "byte"])
    assert "--level" in capsys.readouterr().err


@pytest.mark.skipif(not (shared_data("tagging", "conll2000") / "train.txt").is_file(),
                    reason="no local CoNLL-2000 copy")
def test_conll2000_preset_quick(tmp_path):
    result = call("lm", "train", ["--dataset", "conll2000", "--quick", "--epochs", "1",
                                  "--out", str(tmp_path), "--threads", "1"])
    assert result["corpus"]["train"]["sentences"] == 400
    assert result["table"]["rows"][-1]["test"] > 1
