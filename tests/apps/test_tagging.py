"""graphrnn train|evaluate conll_chunking: on your own CoNLL column files (chunks with a CRF, POS
tags), BMES segmentation on the embedded sample, CoNLL-2000 itself (quick), a missing folder."""
import pytest

from graphrnn.apps import call
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.io import shared_data

CONLL = shared_data("tagging", "conll2000")
SENTENCES = ["The DT B-NP\ncat NN I-NP\nsat VBD B-VP\non IN B-PP\nthe DT B-NP\nmat NN I-NP\n. . O",
             "A DT B-NP\ndog NN I-NP\nbarked VBD B-VP\n. . O",
             "Dogs NNS B-NP\nchase VBP B-VP\ncats NNS B-NP\n. . O"]
SMALL = ["--epochs", "2", "--hidden", "8", "--embedding-dim", "8", "--char-channels", "4"]


@pytest.fixture
def own_files(tmp_path):
    paths = {}
    for split, n in (("train", 8), ("dev", 1), ("test", 1)):
        paths[split] = tmp_path / f"{split}.conll"
        paths[split].write_text("\n\n".join(SENTENCES * n) + "\n")
    return paths


def _files(paths):
    return [arg for split, path in paths.items() for arg in (f"--{split}", str(path))]


def test_own_files_chunk_with_crf_then_evaluate(own_files, tmp_path):
    out = tmp_path / "chunk"
    result = call("conll_chunking", "train", [*_files(own_files), *SMALL, "--crf",
                                              "--root", str(tmp_path / "absent"),
                                              "--out", str(out)])
    assert result["task"] == "chunk" and result["crf"] and result["epochs"] == 2
    assert set(result["test"]) == {"loss", "acc", "precision", "recall", "f1"}
    scores = call("conll_chunking", "evaluate", ["--out", str(out)])
    assert scores["test"]["f1"] == pytest.approx(result["test"]["f1"])
    assert scores["test"]["acc"] == pytest.approx(result["test"]["acc"])


def test_own_files_pos_is_scored_by_accuracy(own_files, tmp_path):
    result = call("conll_chunking", "train", [*_files(own_files), *SMALL, "--task", "pos",
                                              "--out", str(tmp_path)])
    assert set(result["test"]) == {"loss", "acc"} and 0 <= result["test"]["acc"] <= 1


def test_segmentation_learns_word_boundaries_of_the_sample(tmp_path):
    result = call("conll_chunking", "train", ["--task", "seg", "--epochs", "25", "--out",
                                              str(tmp_path)])
    assert result["test"]["f1"] > 0.5          # words, not characters: chance is far lower


def test_missing_root_names_the_files_and_creates_nothing(tmp_path):
    where = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match=r"train.txt .*nowhere.*clips.uantwerpen"):
        call("conll_chunking", "train", ["--root", str(where), "--out", str(tmp_path / "run")])
    assert not where.exists() and not (tmp_path / "run").exists()


@pytest.mark.skipif(not (CONLL / "train.txt").is_file(), reason="needs CoNLL-2000")
def test_quick_run_on_conll2000(tmp_path):
    result = call("conll_chunking", "train", ["--quick", "--epochs", "1", "--crf", "--out",
                                              str(tmp_path)])
    assert result["epochs"] == 1 and 0 <= result["test"]["f1"] <= 1
    assert call("conll_chunking", "evaluate", ["--checkpoint", str(tmp_path / "best.pt")]
                )["test"]["f1"] == pytest.approx(result["test"]["f1"])
