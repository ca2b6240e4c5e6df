"""The SST example end to end on a few sentences (needs ../shared/data/sst)."""
import json

import pytest

from graphrnn.cli import main
from graphrnn.io import shared_data

SST = shared_data("sst")


@pytest.mark.skipif(not (SST / "train.txt").exists(), reason="needs ../shared/data/sst")
def test_sst_quick_trains_evaluates_and_draws(tmp_path, capsys):
    out = tmp_path / "sst"
    assert main(["train", "sst", "--quick", "--epochs", "1", "--root", str(SST), "--out", str(out),
                 "--threads", "1"]) == 0
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert 0.0 <= metrics["test_root_acc"] <= 1.0 and metrics["epochs"] == 1
    assert (out / "dev_tree.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["evaluate", "sst", "--checkpoint", str(out / "best.pt"), "--root", str(SST),
                 "--quick"]) == 0
    single = capsys.readouterr().out.strip().splitlines()[-1]
    # an ensemble of one model twice averages equal probabilities: the same scores
    assert main(["evaluate", "sst", "--checkpoint", str(out / "best.pt"), str(out / "best.pt"),
                 "--root", str(SST), "--quick"]) == 0
    double = capsys.readouterr().out.strip().splitlines()[-1]
    assert "ensemble of 2" in double
    assert single.split("): ")[1] == double.split("): ")[1]


def _sst_module():
    from graphrnn.cli import load_example
    return load_example("sst")


def test_init_from_checkpoint_matches_words_and_keeps_a_new_classifier(tmp_path):
    import torch

    from graphrnn.datasets.text import UNK, Vocab
    from graphrnn.train import save_checkpoint

    sst = _sst_module()
    torch.manual_seed(0)
    old_vocab = Vocab.from_list([UNK, "good", "bad", "film"], specials=(UNK,))
    old = sst.TreeSentiment(len(old_vocab), 5, embedding_dim=4, hidden=3)
    path = save_checkpoint(tmp_path / "fine.pt", old, config={"model": old.config},
                           vocab=old_vocab.to_list())
    new_vocab = Vocab.from_list([UNK, "film", "dull", "good"], specials=(UNK,))
    new = sst.TreeSentiment(len(new_vocab), 2, embedding_dim=4, hidden=3)
    before = new.embedding.weight.detach().clone()
    summary = sst.init_from_checkpoint(new, new_vocab, path)
    assert summary == "Tree-LSTM weights, 3 of 4 word vectors (classifier new: other classes)"
    for key, value in old.tree.state_dict().items():
        torch.testing.assert_close(new.tree.state_dict()[key], value)
    emb_old, emb_new = old.embedding.weight, new.embedding.weight
    torch.testing.assert_close(emb_new[new_vocab["film"]], emb_old[old_vocab["film"]])
    torch.testing.assert_close(emb_new[new_vocab["good"]], emb_old[old_vocab["good"]])
    torch.testing.assert_close(emb_new[new_vocab["dull"]], before[new_vocab["dull"]])
    wrong = sst.TreeSentiment(len(new_vocab), 2, embedding_dim=4, hidden=5)
    with pytest.raises(SystemExit, match="hidden is 3 there, 5 here"):
        sst.init_from_checkpoint(wrong, new_vocab, path)


def test_word_dropout_reads_words_as_unknown_only_in_training():
    import torch
    from nltk import Tree
    from torch_geometric.data import Batch

    from graphrnn.structures import tree_graph

    sst = _sst_module()
    data = tree_graph(Tree.fromstring("(3 (2 a) (4 (2 b) (4 c)))"))
    data.token = torch.tensor([-1, 1, -1, 2, 3])
    batch = Batch.from_data_list([data])
    torch.manual_seed(0)
    model = sst.TreeSentiment(4, 5, embedding_dim=4, hidden=3, dropout=0.0, word_dropout=1.0,
                              unk_index=0)
    model.train()
    all_unknown = model(batch)
    data_unk = data.clone()
    data_unk.token = torch.tensor([-1, 0, -1, 0, 0])
    torch.testing.assert_close(all_unknown, model(Batch.from_data_list([data_unk])))
    model.eval()
    assert not torch.allclose(model(batch), all_unknown)
