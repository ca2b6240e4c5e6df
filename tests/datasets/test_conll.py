import gzip
from pathlib import Path

import pytest

from graphrnn.datasets import conll as C
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.conll import (
    CoNLL2000,
    Sentence,
    bmes_to_words,
    read_conll,
    read_segmented,
    words_to_bmes,
    write_conll,
)
from graphrnn.io import shared_data

SAMPLE = """Confidence NN B-NP
in IN B-PP
the DT B-NP
pound NN I-NP
. . O

Rockwell NNP B-NP
said VBD B-VP


He PRP B-NP
"""


def test_read_conll(tmp_path):
    f = tmp_path / "train.txt"
    f.write_text(SAMPLE)
    sents = read_conll(f)
    assert len(sents) == 3
    assert sents[0] == Sentence(["Confidence", "in", "the", "pound", "."],
                                ["NN", "IN", "DT", "NN", "."],
                                ["B-NP", "B-PP", "B-NP", "I-NP", "O"])
    assert sents[2].words == ["He"]
    gz = tmp_path / "train.txt.gz"
    with gzip.open(gz, "wt") as g:
        g.write(SAMPLE)
    assert read_conll(gz) == sents


def test_read_conll_error_names_file_and_line(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("a DT B-NP\nb NN\n")
    with pytest.raises(ValueError, match=r"x.txt:2: expected 3 fields"):
        read_conll(f)


def test_write_read_round_trip(tmp_path):
    sents = [Sentence(["a", "b"], ["DT", "NN"], ["B-NP", "I-NP"]),
             Sentence(["c"], ["VB"], ["B-VP"])]
    write_conll(tmp_path / "o.txt", sents)
    assert read_conll(tmp_path / "o.txt") == sents


def test_dataset_local_and_missing(tmp_path):
    (tmp_path / "dev.txt").write_text(SAMPLE)
    ds = CoNLL2000(tmp_path, "dev")
    assert len(ds) == 3 and ds[1].chunks == ["B-NP", "B-VP"]
    with pytest.raises(FileNotFoundError, match="not in the official release"):
        CoNLL2000(tmp_path / "empty", "dev")
    with pytest.raises(DataNotFoundError, match=r"test.txt not in .*clips.uantwerpen.*"
                                                r"datasets/conll2000.md"):
        CoNLL2000(tmp_path, "test", download=False)
    assert not (tmp_path / "empty").exists()
    mine = tmp_path / "mine.conll"
    mine.write_text(SAMPLE)
    assert CoNLL2000(tmp_path / "absent", "test", file=mine).sentences == ds.sentences
    with pytest.raises(ValueError, match="split"):
        CoNLL2000(tmp_path, "valid")


def test_dataset_downloads_official_gz(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, folder, filename=None, md5=None):
        calls.append(url)
        path = Path(folder) / url.rsplit("/", 1)[-1]
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt") as g:
            g.write(SAMPLE)
        return path
    monkeypatch.setattr(C, "download_url", fake_download)
    ds = CoNLL2000(tmp_path, "test")
    assert calls == ["https://www.clips.uantwerpen.be/conll2000/chunking/test.txt.gz"]
    assert len(ds) == 3 and (tmp_path / "test.txt").read_text() == SAMPLE


SHARED = shared_data("tagging", "conll2000")


@pytest.mark.skipif(not (SHARED / "test.txt").exists(), reason="shared CoNLL-2000 not present")
def test_shared_counts():
    test = CoNLL2000(SHARED, "test", download=False)
    assert CoNLL2000(SHARED, "dev", check_md5=True).path == SHARED / "dev.txt"
    assert len(test) == 2012 and sum(len(s.words) for s in test) == 47377
    assert all(len(s.words) == len(s.pos) == len(s.chunks) for s in test)


@pytest.mark.parametrize("words,tags", [
    (["我们", "爱", "北京天安门"], list("BESBMMME")),
    (["a"], ["S"]),
    ([], []),
])
def test_bmes_round_trip(words, tags):
    chars, got = words_to_bmes(words)
    assert got == tags and "".join(chars) == "".join(words)
    assert bmes_to_words(chars, got) == words


def test_bmes_to_words_tolerates_inconsistent_tags():
    # B B: the first word is closed by the second B; M after S starts a word; trailing B closes
    assert bmes_to_words(list("abcdef"), list("BBESMB")) == ["a", "bc", "d", "e", "f"]
    with pytest.raises(ValueError, match="tag 1"):
        bmes_to_words(list("ab"), ["B", "X"])
    with pytest.raises(ValueError, match="characters"):
        bmes_to_words(list("ab"), ["S"])
    with pytest.raises(ValueError, match="empty"):
        words_to_bmes(["a", ""])


def test_read_segmented(tmp_path):
    f = tmp_path / "seg.txt"
    f.write_text("我们  爱 北京\n\n天安门\u3000上\n", encoding="utf-8")
    assert read_segmented(f) == [["我们", "爱", "北京"], ["天安门", "上"]]
