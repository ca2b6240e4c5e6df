"""TreeClassifier: word and dense inputs, word dropout, the step's loss and roots, evaluation,
ensembles, copying weights between vocabularies and reading word vectors."""
import pytest
import torch
import torch.nn.functional as F
from nltk import Tree
from torch_geometric.data import Batch

from graphrnn.datasets.expressions import TOKENS, ExpressionTrees
from graphrnn.datasets.text import UNK, Vocab
from graphrnn.models.tree_classifier import (
    TreeClassifier,
    TreeEnsemble,
    copy_weights,
    evaluate_trees,
    load_vectors,
    tree_step,
)
from graphrnn.structures import tree_graph

torch.set_num_threads(1)


def _sentence():
    data = tree_graph(Tree.fromstring("(3 (2 a) (4 (2 b) (4 c)))"), label_fn=int)
    data.token = torch.tensor([-1, 1, -1, 2, 3])
    return data


def test_word_dropout_reads_words_as_unknown_only_in_training():
    batch = Batch.from_data_list([_sentence()])
    torch.manual_seed(0)
    model = TreeClassifier(4, 5, embedding_dim=4, hidden=3, dropout=0.0, word_dropout=1.0,
                           unk_index=0)
    model.train()
    all_unknown = model(batch)
    unk = _sentence()
    unk.token = torch.tensor([-1, 0, -1, 0, 0])
    torch.testing.assert_close(all_unknown, model(Batch.from_data_list([unk])))
    model.eval()
    assert not torch.allclose(model(batch), all_unknown)


def test_nodes_without_a_word_get_no_input():
    torch.manual_seed(0)
    model = TreeClassifier(4, 5, embedding_dim=4, hidden=3).eval()
    data = _sentence()
    with torch.no_grad():
        model.embedding.weight[0] = 100.0                # row 0 = token.clamp(0) of -1 nodes
    before = model(Batch.from_data_list([data]))
    with torch.no_grad():
        model.embedding.weight[0] = -100.0
    torch.testing.assert_close(model(Batch.from_data_list([data])), before)


def test_step_ignores_unlabelled_nodes_and_scores_roots():
    torch.manual_seed(0)
    model = TreeClassifier(4, 5, embedding_dim=4, hidden=3, dropout=0.0)
    a, b = _sentence(), _sentence()
    b.y = torch.tensor([1, -1, -1, -1, -1])
    batch = Batch.from_data_list([a, b])
    loss, metrics = tree_step(model, batch)
    logits = model(batch)
    keep = batch.y >= 0
    torch.testing.assert_close(loss, F.cross_entropy(logits[keep], batch.y[keep]))
    roots = torch.tensor([0, 5])                         # no root_index: found from the edges
    want = (logits[roots].argmax(1) == batch.y[roots]).float().mean()
    torch.testing.assert_close(metrics["root_acc"], want)
    scores = evaluate_trees(model, [batch])
    assert scores["root_acc"] == pytest.approx(float(want))
    assert 0 <= scores["binary_from_fine_root_acc"] <= 1   # 5 classes: the binary score too


def test_dense_inputs_learn_expression_values_at_the_roots():
    torch.manual_seed(0)
    train = Batch.from_data_list(list(ExpressionTrees(64, 2, 3, seed=1)))
    model = TreeClassifier(len(TOKENS), 10, 32, 32, dropout=0.0, inputs="features")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        loss, _ = tree_step(model, train)
        loss.backward()
        opt.step()
    assert evaluate_trees(model, [train])["root_acc"] > 0.9   # would be ~0.1 by chance


def test_ensemble_of_one_model_twice_scores_as_the_model():
    torch.manual_seed(0)
    model = TreeClassifier(4, 5, embedding_dim=4, hidden=3).eval()
    batch = Batch.from_data_list([_sentence()])
    torch.testing.assert_close(TreeEnsemble([model, model])(batch).softmax(1),
                               model(batch).softmax(1))


def test_copy_weights_matches_words_and_keeps_a_new_classifier():
    torch.manual_seed(0)
    old_vocab = Vocab.from_list([UNK, "good", "bad", "film"], specials=(UNK,))
    old = TreeClassifier(len(old_vocab), 5, embedding_dim=4, hidden=3)
    new_vocab = Vocab.from_list([UNK, "film", "dull", "good"], specials=(UNK,))
    new = TreeClassifier(len(new_vocab), 2, embedding_dim=4, hidden=3)
    before = new.embedding.weight.detach().clone()
    summary = copy_weights(new, new_vocab, old.state_dict(), old_vocab)
    assert summary == "Tree-LSTM weights, 3 of 4 word vectors (classifier new: other classes)"
    for key, value in old.tree.state_dict().items():
        torch.testing.assert_close(new.tree.state_dict()[key], value)
    torch.testing.assert_close(new.embedding.weight[new_vocab["film"]],
                               old.embedding.weight[old_vocab["film"]])
    torch.testing.assert_close(new.embedding.weight[new_vocab["dull"]],
                               before[new_vocab["dull"]])
    wrong = TreeClassifier(len(new_vocab), 2, embedding_dim=4, hidden=5)
    with pytest.raises(ValueError, match="hidden is 3 there, 5 here"):
        copy_weights(wrong, new_vocab, old.state_dict(), old_vocab, "--init fine.pt")


def test_load_vectors_reads_glove_and_word2vec_text(tmp_path):
    vocab = Vocab.from_list([UNK, "good", "new york"], specials=(UNK,))
    path = tmp_path / "vectors.txt"
    path.write_text("2 3\ngood 1 2 3\nnew york 4 5 6\nother 0 0 0\n")
    vectors, found = load_vectors(path, vocab, 3)
    assert found == 2 and vectors[2].tolist() == [4.0, 5.0, 6.0]
    assert vectors[0].abs().max() <= 0.05                 # <unk> keeps its random vector
    path.write_text("good 1 2\n")
    with pytest.raises(ValueError, match="vectors.txt:1: expected a word and 3 numbers"):
        load_vectors(path, vocab, 3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="inputs must be one of"):
        TreeClassifier(4, 5, inputs="chars")
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        TreeClassifier(4, 0)
    data = _sentence()
    del data.token
    with pytest.raises(ValueError, match="no 'token'"):
        TreeClassifier(4, 5, embedding_dim=4, hidden=3)(Batch.from_data_list([data]))
