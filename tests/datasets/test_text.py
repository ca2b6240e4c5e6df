import json

import pytest
import torch

from graphrnn.datasets import text as T
from graphrnn.datasets.text import BOS, EOS, PAD, UNK, Vocab, detokenize, pad_sequences, tokenize


@pytest.mark.parametrize("s", ["Hello,  world!\n", "床前明月光，疑是地上霜。", "", " a\tb "])
def test_char_round_trip(s):
    toks = tokenize(s, "char")
    assert toks == list(s)
    assert detokenize(toks, "char") == s


@pytest.mark.parametrize("s,expected", [
    ("Hello, world! It's 3.5 km (about 2 miles).",
     ["Hello", ",", "world", "!", "It", "'s", "3.5", "km", "(", "about", "2", "miles", ")", "."]),
    ("I don't know -- she said \"yes\" at 5 o'clock...",
     ["I", "do", "n't", "know", "--", "she", "said", '"', "yes", '"', "at", "5", "o'clock", "..."]),
    ("Price: $5 or 10% off; well-known?",
     ["Price", ":", "$", "5", "or", "10", "%", "off", ";", "well-known", "?"]),
    ("床前明月光，疑是地上霜。", list("床前明月光，疑是地上霜。")),
])
def test_rule_word_tokenize_and_round_trip(s, expected):
    toks = tokenize(s, "word", backend="rule")
    assert toks == expected
    assert detokenize(toks, "word", backend="rule") == s


def test_auto_backend_detects_missing_punkt(monkeypatch):
    # with the model reported missing, "auto" must fall back to the rules, not raise
    monkeypatch.setattr(T, "nltk_punkt_available", lambda: False)
    assert tokenize("Don't stop.", "word") == ["Do", "n't", "stop", "."]


def test_nltk_backend_without_punkt_warns_and_works(monkeypatch):
    monkeypatch.setattr(T, "nltk_punkt_available", lambda: False)
    with pytest.warns(UserWarning, match="punkt"):
        toks = tokenize("Hello, world.", "word", backend="nltk")
    assert toks == ["Hello", ",", "world", "."]
    assert detokenize(toks, "word", backend="nltk") == "Hello, world."


def test_bad_level_and_backend():
    with pytest.raises(ValueError, match="level"):
        tokenize("x", "sentence")
    with pytest.raises(ValueError, match="backend"):
        tokenize("x", "word", backend="spacy")


def test_vocab_build_order_min_freq_max_size():
    streams = [list("abracadabra"), list("cab")]
    v = Vocab.build(streams)
    # specials first, then by count (a:6, b:3, r:2, c:2 -> tie broken by string), d:1
    assert v.to_list() == [PAD, UNK, BOS, EOS, "a", "b", "c", "r", "d"]
    assert (v.pad_index, v.unk_index, v.bos_index, v.eos_index) == (0, 1, 2, 3)
    assert Vocab.build(streams, min_freq=2).to_list()[4:] == ["a", "b", "c", "r"]
    assert Vocab.build(streams, max_size=2).to_list()[4:] == ["a", "b"]
    assert Vocab.build(reversed(streams)).to_list() == v.to_list()  # order-independent
    with pytest.raises(TypeError, match="str"):
        Vocab.build(["abc"])


def test_encode_decode():
    v = Vocab.build([["the", "cat", "sat"], ["the", "dog"]])
    ids = v.encode(["the", "bird"], add_bos=True, add_eos=True)
    assert ids == [v.bos_index, v["the"], v.unk_index, v.eos_index]
    assert v.decode(ids) == ["the", UNK]
    assert v.decode(torch.tensor(ids + [v["cat"]])) == ["the", UNK]  # stops at <eos>
    assert v.decode(ids, strip_specials=False, stop_at_eos=False) == [BOS, "the", UNK, EOS]


def test_vocab_save_load_and_lists(tmp_path):
    v = Vocab.build([list("床前明月光"), list("明月")])
    path = tmp_path / "sub" / "vocab.json"
    v.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["vocab.json"]  # no temp file left behind
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["tokens"] == v.to_list() and "明" in path.read_text(encoding="utf-8")
    w = Vocab.load(path)
    assert w == v and w["月"] == v["月"]
    assert Vocab.from_list(v.to_list()) == v
    assert Vocab.from_state_dict(v.state_dict()) == v
    with pytest.raises(ValueError, match="specials"):
        Vocab.from_list(["a", "b"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"tokens": [}', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.json:1"):
        Vocab.load(bad)


def test_vocab_rejects_duplicates_and_unknown_without_unk():
    with pytest.raises(ValueError, match="twice"):
        Vocab(["a", "a"])
    v = Vocab(["a"], specials=(PAD,))
    with pytest.raises(KeyError, match="'b'"):
        v["b"]


def test_pad_sequences():
    x, lengths = pad_sequences([[5, 6, 7], [8]], pad_index=0)
    assert x.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    xt, _ = pad_sequences([[5, 6, 7], [8]], batch_first=False)
    assert xt.shape == (3, 2) and xt[:, 1].tolist() == [8, 0, 0]
