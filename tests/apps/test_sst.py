"""graphrnn train|evaluate sst: on your own tree files, on SST itself (quick), ensembles, --init
from a fine-grained model, and a missing data folder."""
import json

import pytest
import torch

from graphrnn.apps import call
from graphrnn.apps.config import ConfigError
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.io import shared_data

SST = shared_data("sst")
TREES = ["(4 (4 (3 very) (4 good)) (2 film))", "(0 (0 (1 very) (0 bad)) (2 film))",
         "(3 (2 a) (3 (3 nice) (2 plot)))", "(1 (2 a) (1 (1 dull) (2 plot)))",
         "(2 (2 a) (2 film))"]


@pytest.fixture
def own_files(tmp_path):
    paths = {}
    for split, rows in (("train", TREES * 4), ("dev", TREES), ("test", TREES[:4])):
        paths[split] = tmp_path / f"{split}.trees"
        paths[split].write_text("\n".join(rows) + "\n")
    return paths


def _files(paths):
    return [arg for split, path in paths.items() for arg in (f"--{split}", str(path))]


def test_own_files_train_evaluate_and_draw(own_files, tmp_path):
    out = tmp_path / "run"
    result = call("sst", "train", [*_files(own_files), "--root", str(tmp_path / "absent"),
                                   "--epochs", "2", "--hidden", "8", "--embedding-dim", "8",
                                   "--out", str(out)])
    assert result["epochs"] == 2 and 0 <= result["test_root_acc"] <= 1
    assert json.loads((out / "results.json").read_text())["test_root_acc"] == \
        result["test_root_acc"]
    assert (out / "dev_tree.png").stat().st_size > 1000
    # evaluate reads the trained test file again and scores the same
    scores = call("sst", "evaluate", ["--out", str(out)])
    assert scores["test_root_acc"] == pytest.approx(result["test_root_acc"])
    assert scores["test_phrase_acc"] == pytest.approx(result["test_phrase_acc"])
    # an ensemble of one model twice averages equal probabilities: the same scores
    both = call("sst", "evaluate", ["--checkpoint", str(out / "best.pt"), str(out / "best.pt"),
                                    "--out", str(out)])
    assert both["test_root_acc"] == pytest.approx(scores["test_root_acc"])
    # binary from the fine-grained model: Tree-LSTM and vectors copied, a new classifier
    binary = call("sst", "train", [*_files(own_files), "--binary", "--init", str(out / "best.pt"),
                                   "--epochs", "1", "--hidden", "8", "--embedding-dim", "8",
                                   "--out", str(tmp_path / "binary")])
    assert binary["task"] == "binary" and "test_binary_from_fine_root_acc" not in binary


def test_init_with_other_sizes_is_refused(own_files, tmp_path):
    call("sst", "train", [*_files(own_files), "--epochs", "1", "--hidden", "8",
                          "--embedding-dim", "8", "--out", str(tmp_path / "a")])
    with pytest.raises(ValueError, match="hidden is 8 there, 6 here"):
        call("sst", "train", [*_files(own_files), "--epochs", "1", "--hidden", "6",
                              "--embedding-dim", "8", "--init", str(tmp_path / "a" / "best.pt"),
                              "--out", str(tmp_path / "b")])


def test_missing_root_names_the_files_and_creates_nothing(tmp_path):
    where = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match=r"train.txt .*nowhere.*nlp.stanford.edu"):
        call("sst", "train", ["--root", str(where), "--out", str(tmp_path / "run")])
    assert not where.exists() and not (tmp_path / "run").exists()


@pytest.mark.skipif(not (SST / "train.txt").exists(), reason="needs ../shared/data/sst")
def test_quick_run_on_sst(tmp_path):
    out = tmp_path / "sst"
    result = call("sst", "train", ["--quick", "--epochs", "1", "--out", str(out)])
    assert result["epochs"] == 1 and 0.0 <= result["test_root_acc"] <= 1.0
    scores = call("sst", "evaluate", ["--checkpoint", str(out / "best.pt")])
    assert scores["test_root_acc"] == pytest.approx(result["test_root_acc"])


def test_chain_trains_through_quick_path_on_the_trees_vocabulary(own_files, tmp_path):
    small = ["--hidden", "8", "--embedding-dim", "8", "--epochs", "2", "--quick"]
    chain = call("sst", "train", [*_files(own_files), *small, "--structure", "chain",
                                  "--bidirectional", "--out", str(tmp_path / "chain")])
    assert (chain["model"], chain["labels"], chain["epochs"]) == ("BiLSTM", "root", 2)
    assert 0 <= chain["test_root_acc"] <= 1 and chain["seconds_per_epoch"] > 0
    tree = call("sst", "train", [*_files(own_files), *small, "--epochs", "1",
                                 "--out", str(tmp_path / "tree")])
    assert (tree["model"], tree["labels"]) == ("Tree-LSTM", "all")
    load = lambda run: torch.load(tmp_path / run / "best.pt", weights_only=False)  # noqa: E731
    assert load("chain")["vocab"] == load("tree")["vocab"]
    assert any(k.startswith("lstm.") and k.endswith("_reverse") for k in load("chain")["model"])
    # evaluate rebuilds the BiLSTM from the checkpoint alone
    scores = call("sst", "evaluate", ["--out", str(tmp_path / "chain")])
    assert scores["test_root_acc"] == pytest.approx(chain["test_root_acc"])
    # binary from the chain's fine-grained model; a tree checkpoint is refused
    binary = call("sst", "train", [*_files(own_files), *small, "--structure", "chain",
                                   "--bidirectional", "--binary", "--init",
                                   str(tmp_path / "chain" / "best.pt"),
                                   "--out", str(tmp_path / "binary")])
    assert binary["task"] == "binary" and binary["model"] == "BiLSTM"
    with pytest.raises(ValueError, match="trained with --structure tree, this run is "
                                         "--structure chain --bidirectional"):
        call("sst", "train", [*_files(own_files), *small, "--structure", "chain",
                              "--bidirectional", "--init", str(tmp_path / "tree" / "best.pt"),
                              "--out", str(tmp_path / "bad")])


def test_bidirectional_tree_is_refused_before_any_work(own_files, tmp_path):
    with pytest.raises(ConfigError, match="--bidirectional is for --structure chain"):
        call("sst", "train", [*_files(own_files), "--bidirectional",
                              "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()
