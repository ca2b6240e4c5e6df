"""SentenceClassifier: the chain baseline of the Tree-LSTM on the same tree batches. Spans of
leaves, every phrase as a standalone (Bi)LSTM run, parse invariance at the root (the tree is not
invariant), sentence-only training, the shared step / evaluation and copying weights."""
import pytest
import torch
from nltk import Tree
from torch_geometric.data import Batch

from graphrnn.datasets.text import UNK, Vocab
from graphrnn.models.sentence_classifier import SentenceClassifier, leaf_spans, pack_spans
from graphrnn.models.tree_classifier import (
    TreeClassifier,
    copy_weights,
    evaluate_trees,
    tree_step,
)
from graphrnn.structures import tree_graph

torch.set_num_threads(1)


def _tree(text: str, words: list[int]):
    data = tree_graph(Tree.fromstring(text), label_fn=int)
    it = iter(words)
    data.token = torch.tensor([next(it) if leaf else -1 for leaf in data.is_leaf.tolist()])
    return data


RIGHT = "(3 (2 a) (4 (2 b) (4 c)))"      # a (b c)
LEFT = "(3 (4 (2 a) (2 b)) (4 c))"       # (a b) c


def test_leaf_spans_of_a_batch():
    batch = Batch.from_data_list([_tree(RIGHT, [1, 2, 3]), _tree(LEFT, [1, 2, 3])])
    start, length = leaf_spans(batch.edge_index, batch.is_leaf)
    # pre-order nodes: a(b c): root, a, (b c), b, c;  (a b)c: root, (a b), a, b, c
    assert start.tolist() == [0, 0, 1, 1, 2, 3, 3, 3, 4, 5]
    assert length.tolist() == [3, 1, 2, 1, 1, 3, 2, 1, 1, 1]


def test_pack_spans_gives_each_span_in_order():
    rows = torch.arange(6.0).unsqueeze(1)
    packed = pack_spans(rows, torch.tensor([4, 0, 2]), torch.tensor([1, 3, 2]))
    padded, lengths = torch.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True)
    assert lengths.tolist() == [1, 3, 2]
    assert padded[1, :, 0].tolist() == [0.0, 1.0, 2.0]
    assert padded[2, :2, 0].tolist() == [2.0, 3.0] and padded[0, 0, 0] == 4.0


@pytest.mark.parametrize("bidirectional", [False, True])
def test_every_phrase_is_its_own_lstm_run(bidirectional):
    torch.manual_seed(0)
    model = SentenceClassifier(5, 5, embedding_dim=4, hidden=3,
                               bidirectional=bidirectional).eval()
    batch = Batch.from_data_list([_tree(RIGHT, [1, 2, 3]), _tree(LEFT, [4, 2, 1])])
    logits = model(batch)
    words = {0: [1, 2, 3], 2: [2, 3], 3: [2], 5: [4, 2, 1], 6: [4, 2], 9: [1]}
    for node, span in words.items():
        _, (h_n, _) = model.lstm(model.embedding(torch.tensor(span)))       # unbatched: (D, H)
        torch.testing.assert_close(logits[node], model.classifier(h_n.reshape(-1)))


def test_the_chain_ignores_the_brackets_and_the_tree_does_not():
    torch.manual_seed(0)
    chain = SentenceClassifier(4, 5, embedding_dim=4, hidden=3, bidirectional=True).eval()
    tree = TreeClassifier(4, 5, embedding_dim=4, hidden=3).eval()
    batch = Batch.from_data_list([_tree(RIGHT, [1, 2, 3]), _tree(LEFT, [1, 2, 3])])
    roots = torch.tensor([0, 5])
    with torch.no_grad():
        out = chain(batch)[roots]
        torch.testing.assert_close(out[0], out[1])
        out = tree(batch)[roots]
        assert (out[0] - out[1]).abs().max() > 1e-4


def test_sentence_training_runs_only_the_roots():
    torch.manual_seed(0)
    model = SentenceClassifier(4, 5, embedding_dim=4, hidden=3, dropout=0.0, phrases=False)
    batch = Batch.from_data_list([_tree(RIGHT, [1, 2, 3]), _tree(LEFT, [3, 2, 1])])
    model.train()
    trained = model(batch)
    model.eval()
    evaluated = model(batch)
    roots = torch.tensor([0, 5])
    torch.testing.assert_close(trained[roots], evaluated[roots])
    others = torch.ones(10, dtype=torch.bool)
    others[roots] = False
    assert trained[others].abs().max() == 0 and evaluated[others].abs().max() > 0


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_shared_step_and_evaluation_learn_the_roots():
    torch.manual_seed(0)
    good, bad = _tree("(4 (3 very) (4 good))", [1, 2]), _tree("(0 (3 very) (0 bad))", [1, 3])
    batch = Batch.from_data_list([good, bad])
    model = SentenceClassifier(4, 5, embedding_dim=8, hidden=8, dropout=0.0, sparse=True)
    opt = torch.optim.Adagrad(model.parameters(), lr=0.1)
    for _ in range(30):
        opt.zero_grad()
        loss, metrics = tree_step(model, batch)
        loss.backward()
        opt.step()
    assert model.embedding.weight.grad.is_sparse
    scores = evaluate_trees(model, [batch])
    assert scores["root_acc"] == 1.0 and scores["phrase_acc"] == 1.0


def test_copy_weights_between_chains_and_refusing_a_tree():
    torch.manual_seed(0)
    vocab = Vocab.from_list([UNK, "good", "bad"], specials=(UNK,))
    fine = SentenceClassifier(3, 5, embedding_dim=4, hidden=3, bidirectional=True)
    binary = SentenceClassifier(3, 2, embedding_dim=4, hidden=3, bidirectional=True)
    summary = copy_weights(binary, vocab, fine.state_dict(), vocab)
    assert summary == "LSTM weights, 3 of 3 word vectors (classifier new: other classes)"
    torch.testing.assert_close(binary.lstm.weight_hh_l0_reverse, fine.lstm.weight_hh_l0_reverse)
    one_way = SentenceClassifier(3, 2, embedding_dim=4, hidden=3)
    with pytest.raises(ValueError, match="the LSTM differs"):
        copy_weights(one_way, vocab, fine.state_dict(), vocab, "--init fine.pt")
    tree = TreeClassifier(3, 5, embedding_dim=4, hidden=3)
    with pytest.raises(ValueError, match="the LSTM differs"):
        copy_weights(one_way, vocab, tree.state_dict(), vocab, "--init tree.pt")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="hidden must be a positive int"):
        SentenceClassifier(4, 5, hidden=0)
    data = _tree(RIGHT, [1, 2, 3])
    del data.token
    with pytest.raises(ValueError, match="no 'token'"):
        SentenceClassifier(4, 5, embedding_dim=4, hidden=3)(Batch.from_data_list([data]))
