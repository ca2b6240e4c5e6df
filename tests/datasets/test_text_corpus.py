import gzip

import pytest
import torch

from graphrnn.datasets import TextCorpus
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.text import EOS, UNK
from graphrnn.datasets.text_corpus import char_tokenize, split_punctuation, whitespace_tokenize
from graphrnn.io import shared_data

TRAIN = "the cat sat\nthe <unk> rose 500-stock\n\nthe cat\n"
VALID = "a cat sat\n"
TEST = "the dog <unk>\n"


def _write(folder, names=("train.txt", "valid.txt", "test.txt"), texts=(TRAIN, VALID, TEST)):
    for name, text in zip(names, texts):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_tokenizers_keep_pretokenised_text():
    assert whitespace_tokenize(" a <unk> 500-stock  's .\n") == ["a", "<unk>", "500-stock", "'s",
                                                                  "."]
    assert char_tokenize(" ab  c\t") == ["a", "b", " ", "c"]
    assert char_tokenize("春眠不覺曉") == list("春眠不覺曉")
    assert split_punctuation("Tom's here, isn't he? It costs $3.50 (well-known).") == \
        "Tom's here , isn't he ? It costs $ 3.50 ( well-known ) ."


def test_root_vocab_stream_and_counts(tmp_path):
    c = TextCorpus(_write(tmp_path))
    assert c.sentences("train") == [["the", "cat", "sat"], ["the", "<unk>", "rose", "500-stock"],
                                    ["the", "cat"]]
    v = c.vocab
    # train only, by count: the(3) cat(2) then 500-stock rose sat (count 1, by string); the literal
    # <unk> is the special, not a regular token
    assert v.to_list()[4:] == ["the", "cat", "500-stock", "rose", "sat"]
    assert v["<unk>"] == v.unk_index and "dog" not in v and "a" not in v
    s = c.stream("test")
    assert s.dtype == torch.long
    assert s.tolist() == [v.eos_index, v["the"], v.unk_index, v.unk_index, v.eos_index]
    assert c.num_predicted("test") == 4 == sum(len(x) + 1 for x in c.sentences("test"))
    assert c.num_predicted("train") == 3 + 4 + 2 + 3
    assert c.oov_rate("valid") == pytest.approx(1 / 3)
    cols = c.columns("train", 2)  # stream of 13 -> 2 columns of 6
    assert cols.shape == (6, 2) and cols[:, 1].tolist() == c.stream("train")[6:12].tolist()


def test_ptb_and_dev_names_gzip_and_explicit_files(tmp_path):
    _write(tmp_path, ("ptb.train.txt", "dev.txt", "ptb.test.txt"))
    assert TextCorpus(tmp_path).sources["valid"].endswith("dev.txt")
    gz = tmp_path / "g.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write(VALID)
    c = TextCorpus(train=tmp_path / "ptb.train.txt", valid=gz, test=tmp_path / "ptb.test.txt")
    assert c.sentences("valid") == [["a", "cat", "sat"]]


def test_char_level_keeps_spaces(tmp_path):
    c = TextCorpus(_write(tmp_path), level="char", min_freq=2)
    assert c.sentences("valid") == [list("a cat sat")]
    assert "".join(c.sentences("train")[0]) == "the cat sat"
    assert " " in c.vocab and "z" not in c.vocab
    assert c.vocab.counts["t"] == 7  # the x3, cat x2, sat, 500-stock


def test_text_split_is_seeded_and_by_distinct_sentence(tmp_path):
    lines = [f"s{i} w" for i in range(40)] + ["s0 w"] * 5  # s0 repeated
    f = tmp_path / "all.txt"
    f.write_text("\n".join(lines) + "\n")
    a = TextCorpus(text=f, split=(0.5, 0.25, 0.25), seed=3)
    b = TextCorpus(text=f, split=(0.5, 0.25, 0.25), seed=3)
    other = TextCorpus(text=f, split=(0.5, 0.25, 0.25), seed=4)
    sizes = [len(a.sentences(k)) for k in ("train", "valid", "test")]
    assert sizes == [20, 10, 10]  # 40 distinct sentences; the copies of s0 are dropped
    assert a.sentences("test") == b.sentences("test") != other.sentences("test")
    seen = [tuple(s) for k in ("train", "valid", "test") for s in a.sentences(k)]
    assert len(seen) == len(set(seen)) == 40
    kept = TextCorpus(text=f, split=(0.5, 0.25, 0.25), seed=3, dedupe=False)
    home = [k for k in ("train", "valid", "test") if ["s0", "w"] in kept.sentences(k)]
    assert len(home) == 1 and kept.sentences(home[0]).count(["s0", "w"]) == 6


def test_conll_and_tsv_readers(tmp_path):
    conll = "-DOCSTART- -X- O\n\nThe DT B-NP\ncat NN I-NP\n\n\nSat VBD B-VP\n"
    for name in ("train.txt", "dev.txt", "test.txt"):
        (tmp_path / name).write_text(conll)
    c = TextCorpus(tmp_path, reader="conll", lowercase=True)
    assert c.sentences("test") == [["the", "cat"], ["sat"]]
    assert TextCorpus(tmp_path, reader="conll", level="char").sentences("train")[0] == \
        list("The cat")
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("Hi.\t嗨。\tCC-BY\nRun!\t跑\tCC-BY\n\n" * 3 + "".join(
        f"Word{i}.\t字\tCC\n" for i in range(20)))
    t = TextCorpus(text=tsv, reader="tsv:0", lowercase=True, preprocess=split_punctuation)
    every = [s for k in ("train", "valid", "test") for s in t.sentences(k)]
    assert ["hi", "."] in every and ["run", "!"] in every and len(every) == 22
    z = TextCorpus(text=tsv, reader="tsv:1", level="char", split=(0.4, 0.3, 0.3))
    every = z.sentences("train") + z.sentences("valid") + z.sentences("test")
    assert sorted(map("".join, every)) == sorted(["字", "嗨。", "跑"])


def test_errors_name_file_line_and_split(tmp_path):
    with pytest.raises(DataNotFoundError, match="no file for valid"):
        TextCorpus(_write(tmp_path, ("train.txt", "x.txt", "test.txt")))
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        TextCorpus(train=tmp_path / "train.txt", valid=tmp_path / "missing.txt",
                   test=tmp_path / "test.txt")
    with pytest.raises(DataNotFoundError, match="nowhere"):
        TextCorpus(tmp_path / "nowhere")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine line\nbad \xff byte\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2"):
        TextCorpus(train=bad, valid=bad, test=bad)
    conll = tmp_path / "c.txt"
    conll.write_text("The DT B-NP\ncat NN\n")
    with pytest.raises(ValueError, match=r"c\.txt:2: 2 columns.*has 3"):
        TextCorpus(train=conll, valid=conll, test=conll, reader="conll")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\nc\td\n\ne\n")
    with pytest.raises(ValueError, match=r"t\.tsv:4: 1 tab-separated"):
        TextCorpus(text=tsv, reader="tsv:0")
    with pytest.raises(ValueError, match="column 2"):
        TextCorpus(text=tsv, reader="tsv:2")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="valid split .*empty.txt.* no sentences"):
        TextCorpus(train=tmp_path / "train.txt", valid=empty, test=tmp_path / "test.txt")
    eos = tmp_path / "eos.txt"
    eos.write_text(f"a b {EOS}\n")
    with pytest.raises(ValueError, match=f"eos.txt: sentence 1 .*{EOS}"):
        TextCorpus(train=eos, valid=eos, test=eos)
    with pytest.raises(ValueError, match="exactly one"):
        TextCorpus(tmp_path, text=tsv)
    with pytest.raises(ValueError, match="reader"):
        TextCorpus(tmp_path, reader="csv")
    with pytest.raises(ValueError, match="split must be"):
        TextCorpus.from_sentences({"train": [["a"]], "valid": [["a"]], "test": [["a"]]}
                                  ).stream("dev")


CONLL = shared_data("tagging", "conll2000")
CMN = shared_data("translation", "cmn-eng", "cmn.txt")


@pytest.mark.skipif(not (CONLL / "train.txt").exists(), reason="shared CoNLL-2000 not present")
def test_shared_conll2000_words():
    c = TextCorpus.conll2000()
    assert c.num_tokens("train") == 211727 and c.num_tokens("test") == 47377
    assert c.num_predicted("valid") == 44352 + 1844
    assert c.sentences("train")[0][:3] == ["Confidence", "in", "the"]
    counts = c.vocab.counts  # the preset keeps words seen twice in train
    assert min(counts[t] for t in c.vocab.to_list()[4:]) == 2
    assert len(c.vocab) == 4 + sum(n >= 2 for n in counts.values())


@pytest.mark.skipif(not CMN.exists(), reason="shared cmn-eng not present")
def test_shared_cmn_eng_split_has_no_leak():
    c = TextCorpus.cmn_eng()
    sets = [{tuple(s) for s in c.sentences(k)} for k in ("train", "valid", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert all(t == t.lower() for s in c.sentences("valid") for t in s)
    assert ["hi", "."] in c.sentences("train") + c.sentences("valid") + c.sentences("test")
    assert UNK in c.vocab
