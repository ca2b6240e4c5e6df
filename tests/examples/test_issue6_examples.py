"""Each example of issue 6 trains a quick run and evaluates its checkpoint."""
import json

import pytest
import torch

from graphrnn.cli import available_examples, load_example
from graphrnn.io import shared_data

HAVE_CONLL = shared_data("tagging", "conll2000", "train.txt").is_file()

torch.set_num_threads(1)
EXAMPLES = {
    "conll_chunking": ("best.pt", ["--task", "chunk", "--crf"]),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_trains_and_evaluates(name, tmp_path, capsys):
    if name == "conll_chunking" and not HAVE_CONLL:
        pytest.skip("needs ../shared/data/tagging/conll2000")
    checkpoint, extra = EXAMPLES[name]
    assert available_examples()[name]  # a one-line DESCRIPTION
    module = load_example(name)
    out = tmp_path / name
    assert module.train(["--quick", "--epochs", "1", "--out", str(out), "--threads", "1",
                         *extra]) == 0
    assert (out / checkpoint).is_file()
    assert module.evaluate(["--checkpoint", str(out / checkpoint), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test" in printed or "accuracy" in printed


def test_tagging_example_pos_and_segmentation(tmp_path):
    module = load_example("conll_chunking")
    for task in ("pos", "seg") if HAVE_CONLL else ("seg",):  # seg has an embedded sample
        out = tmp_path / task
        assert module.train(["--quick", "--epochs", "1", "--out", str(out), "--task", task,
                             "--threads", "1"]) == 0
        scores = json.loads((out / "test_scores.json").read_text())
        assert scores["task"] == task and 0 <= scores["test"]["acc"] <= 1
