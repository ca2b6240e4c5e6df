"""Tab-separated text pairs: the reader's errors, the grouped seeded split, tokenisers, ids."""
from __future__ import annotations

import pytest

from graphrnn.datasets.pairs import Pair, TextPairs, Tokenizer, read_pairs, split_pairs


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_pairs_columns_blank_lines_and_extra_columns(tmp_path):
    f = write(tmp_path / "p.tsv", ["hi .\thello !\tnote", "", "how are you ?\tfine ."])
    pairs = read_pairs(f)
    assert pairs == [Pair("hi .", "hello !", 1, ("note",)), Pair("how are you ?", "fine .", 3)]
    swapped = read_pairs(f, src_col=1, tgt_col=0)
    assert swapped[0].source == "hello !" and swapped[0].target == "hi ."


@pytest.mark.parametrize("lines, message", [
    (["a\tb", "only one column", "c\td"], r"p\.tsv:2: 1 tab-separated column\(s\), expected at "
                                          r"least 2"),
    (["a\tb", "c\t  "], r"p\.tsv:2: empty target \(column 1\)"),
    (["\tb"], r"p\.tsv:1: empty source \(column 0\)"),
    (["", "  "], r"no pairs"),
])
def test_malformed_lines_are_errors_naming_file_and_line(tmp_path, lines, message):
    f = write(tmp_path / "p.tsv", lines)
    with pytest.raises(ValueError, match=message):
        read_pairs(f)


def test_reader_argument_and_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        read_pairs(tmp_path / "missing.tsv")
    with pytest.raises(ValueError, match="two different column"):
        read_pairs(write(tmp_path / "p.tsv", ["a\tb"]), 1, 1)
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tb\nc\t\xff\n")
    with pytest.raises(ValueError, match="bad.tsv.*2"):
        read_pairs(bad)


def test_split_keeps_connected_groups_together_and_is_seeded():
    # "x" has two targets; target "shared" links sources "y" and "z": 3 groups + singletons
    pairs = [Pair("x", "1", 1), Pair("x", "2", 2), Pair("y", "shared", 3), Pair("z", "shared", 4)]
    pairs += [Pair(f"s{i}", f"t{i}", 5 + i) for i in range(16)]
    both = (lambda p: p.source, lambda p: p.target)
    splits = split_pairs(pairs, valid=3, test=3, seed=1, keys=both)
    assert sum(len(v) for v in splits.values()) == len(pairs)
    side = {p.line: k for k, v in splits.items() for p in v}
    assert side[1] == side[2] and side[3] == side[4]
    assert len(splits["test"]) >= 3 and len(splits["valid"]) >= 3
    assert splits == split_pairs(pairs, valid=3, test=3, seed=1, keys=both)
    others = [split_pairs(pairs, valid=3, test=3, seed=s, keys=both)["test"] for s in range(2, 6)]
    assert any(o != splits["test"] for o in others)
    by_source = split_pairs(pairs, valid=3, test=3, seed=1)  # default key: the source only
    side = {p.line: k for k, v in by_source.items() for p in v}
    assert side[1] == side[2]
    with pytest.raises(ValueError, match="leave none"):
        split_pairs(pairs, valid=0.5, test=0.5)


def test_tokenizers_round_trip():
    words = Tokenizer("word", lowercase=True)
    assert words("Tom's here, isn't he?") == ["tom's", "here", ",", "isn't", "he", "?"]
    assert words.detokenize(["i", "see", "."]) == "i see ."
    chars = Tokenizer("char")
    assert chars("我爱你。") == ["我", "爱", "你", "。"]
    assert chars.detokenize(chars("我爱 Tom。")) == "我爱 Tom。"
    jieba = Tokenizer("jieba")
    assert "".join(jieba("我爱北京天安门。")) == "我爱北京天安门。"
    assert len(jieba("我爱北京天安门。")) < len("我爱北京天安门。")  # words, not characters
    with pytest.raises(ValueError, match="level"):
        Tokenizer("bpe")


def test_text_pairs_ids_vocabularies_and_references():
    train = [Pair("Hi.", "嗨。", 1), Pair("Run!", "跑！", 2),
             Pair("a b c d e f", "长长长长长长长", 3)]
    splits = {"train": train, "valid": [Pair("Hi.", "你好。", 4)],
              "test": [Pair("Run!", "快跑！", 5), Pair("Run!", "跑！", 6), Pair("Hi.", "嗨。", 7)]}
    data = TextPairs(splits, Tokenizer("word", True), Tokenizer("char"), max_len=6)
    items = data.items("train")
    assert len(items) == 2  # the 7-character target is longer than max_len
    src, tgt = items[0]
    assert data.src_vocab.decode(src) == ["hi", "."]
    assert tgt[0] == data.tgt_vocab.bos_index and tgt[-1] == data.tgt_vocab.eos_index
    assert data.decode_target(tgt) == "嗨。"
    ids, refs, groups = data.grouped("test")
    assert refs == [["快跑！", "跑！"], ["嗨。"]]  # one entry per distinct source, all references
    assert data.src_vocab.decode(ids[0]) == ["run", "!"] and len(groups[0]) == 2
    assert data.summary()["test"] == {"pairs": 3, "sources": 2, "source_tokens": 6,
                                      "target_tokens": 7}
    with pytest.raises(ValueError, match="valid split has no pairs"):
        TextPairs({**splits, "valid": []}, Tokenizer(), Tokenizer())
