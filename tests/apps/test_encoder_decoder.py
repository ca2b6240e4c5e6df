"""The encoder-decoder apps' shared pieces: BLEU of decoded output through sacrebleu on
hand-checked pairs, the reply loop."""
from __future__ import annotations

import pytest
import torch

from graphrnn.apps.encoder_decoder import bleu, reply_loop
from graphrnn.datasets.pairs import Pair, TextPairs, Tokenizer


class Fixed(torch.nn.Module):
    """A stand-in model whose decoder outputs the given target ids for every source."""
    pad = 0

    def __init__(self, ids):
        super().__init__()
        self.ids = ids

    def generate(self, src, lengths, max_len, beam_width=1, length_penalty=0.0):
        return [list(self.ids) for _ in range(src.size(0))]


def data(target_level, pairs):
    splits = {k: [Pair(s, t, i) for i, (s, t) in enumerate(pairs)]
              for k in ("train", "valid", "test")}
    return TextPairs(splits, Tokenizer("word", True), Tokenizer(target_level))


def test_bleu_of_a_hand_checked_english_pair():
    d = data("word", [("x", "a b c d f"), ("y", "a b c d e")])
    model = Fixed(d.tgt_vocab.encode("a b c d e".split()))
    out = bleu(model, d, "test", 1, 0.0, None)
    # sources x (reference "a b c d f") and y (exact): p_n = 9/10, 7/8, 5/6, 3/4
    expected = 100 * (9 / 10 * 7 / 8 * 5 / 6 * 3 / 4) ** 0.25
    assert out["bleu"] == pytest.approx(expected, abs=1e-6)
    assert "tok:13a" in out["signature"]
    assert out["examples"][0] == {"source": "x", "output": "a b c d e",
                                  "references": ["a b c d f"]}


def test_bleu_of_chinese_characters_uses_the_zh_tokenizer():
    d = data("char", [("i love you .", "我爱你。")])
    out = bleu(Fixed(d.tgt_vocab.encode(list("我爱你。"))), d, "test", 1, 0.0, None)
    assert out["bleu"] == pytest.approx(100.0) and "tok:zh" in out["signature"]
    half = bleu(Fixed(d.tgt_vocab.encode(list("我爱"))), d, "test", 1, 0.0, None)
    assert half["bleu"] == 0.0  # no 3- or 4-gram of a 2-character output


def test_reply_loop_answers_each_non_blank_line():
    out = []
    assert reply_loop(["a\n", "\n", " b \n"], str.upper, out.append) == 2
    assert out == ["A", "B"]
