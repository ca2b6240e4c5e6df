"""The BiLSTM(-CRF) tagger: fits a tiny set, scores as conlleval does; the encoder it reads."""
import pytest
import torch

from graphrnn.datasets.conll import TaggingEncoder, bmes_to_iobes, normalize_word
from graphrnn.models.tagger import BiLSTMTagger, evaluate_tagger, tagging_step
from graphrnn.tasks.conlleval import conlleval, read_conlleval_file

torch.set_num_threads(1)

SENTENCES = [
    (["The", "cat", "sat", "on", "the", "mat", "."],
     ["B-NP", "I-NP", "B-VP", "B-PP", "B-NP", "I-NP", "O"],
     ["DT", "NN", "VBD", "IN", "DT", "NN", "."]),
    (["Dogs", "bark", "loudly", "."],
     ["B-NP", "B-VP", "B-ADVP", "O"],
     ["NNS", "VBP", "RB", "."]),
    (["A", "big", "dog", "ran", "to", "2", "cats", "."],
     ["B-NP", "I-NP", "I-NP", "B-VP", "B-PP", "B-NP", "I-NP", "O"],
     ["DT", "JJ", "NN", "VBD", "TO", "CD", "NNS", "."]),
]


def encoder(**kw):
    return TaggingEncoder([s[0] for s in SENTENCES], [s[1] for s in SENTENCES],
                          [s[2] for s in SENTENCES], **kw)


def test_encoder_collate_and_state_round_trip():
    enc = encoder(tag_set=["I-LST"])
    assert "I-LST" in enc.tags and normalize_word("Year1999") == "year0000"
    items = [enc.encode(*s) for s in SENTENCES]
    batch = enc.collate(items)
    assert batch.words.shape == batch.tags.shape == batch.features.shape == (3, 8)
    assert batch.lengths.tolist() == [7, 4, 8]
    assert batch.tags[1, 4:].eq(-100).all() and batch.mask.sum() == 19
    # every token's character row spells the token
    for i, (tokens, _, _) in enumerate(SENTENCES):
        for t, w in enumerate(tokens):
            row = batch.chars[batch.char_index[i, t]]
            assert "".join(enc.chars.lookup_token(c) for c in row.tolist() if c) == w
    again = TaggingEncoder.from_state_dict(enc.state_dict())
    assert again.encode(*SENTENCES[0]) == items[0]
    with pytest.raises(ValueError, match="tags"):
        enc.encode(["a"], ["B-NP", "O"], ["DT"])


@pytest.mark.parametrize("crf", [False, True])
def test_tagger_fits_a_tiny_set_and_scores_with_conlleval(crf):
    torch.manual_seed(0)
    enc = encoder()
    batch = enc.collate([enc.encode(*s) for s in SENTENCES])
    model = BiLSTMTagger(len(enc.words), len(enc.tags), embedding_dim=16, hidden_size=16,
                         num_chars=len(enc.chars), char_channels=8,
                         num_features=len(enc.features), crf=crf, dropout=0.0, word_dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        loss, metrics = tagging_step(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert metrics["acc"] == 1.0
    model.eval()
    pred = model.decode(batch)
    assert [len(p) for p in pred] == [7, 4, 8]
    gold = [s[1] for s in SENTENCES]
    assert [[enc.tags.lookup_token(i) for i in p] for p in pred] == gold
    scores = evaluate_tagger(model, [batch], enc.tags)
    assert scores["f1"] == 1.0 and scores["acc"] == 1.0


def test_evaluate_tagger_agrees_with_conlleval_on_errors():
    torch.manual_seed(1)
    enc = encoder()
    batch = enc.collate([enc.encode(*s) for s in SENTENCES])
    model = BiLSTMTagger(len(enc.words), len(enc.tags), embedding_dim=8, hidden_size=8)
    scores = evaluate_tagger(model, [batch], enc.tags)
    pred = [[enc.tags.lookup_token(i) for i in p] for p in model.eval().decode(batch)]
    ref = conlleval([s[1] for s in SENTENCES], pred)
    assert scores["f1"] == pytest.approx(ref.f1) and scores["acc"] == pytest.approx(ref.accuracy)
    with pytest.raises(ValueError, match="features"):
        model_f = BiLSTMTagger(len(enc.words), len(enc.tags), num_features=5)
        model_f(batch._replace(features=None))


def test_conlleval_equivalent_f1_on_a_hand_made_file(tmp_path):
    # gold chunks: [NP He] [VP reckons] [NP the deficit] ; predicted: [NP He] [VP reckons the]
    # [NP deficit] -> 1 + 0 + 0 correct... counted by hand: gold 3, guessed 3, correct 2
    text = ("He PRP B-NP B-NP\nreckons VBZ B-VP B-VP\nthe DT B-NP B-NP\ndeficit NN I-NP B-NP\n"
            "\nIt PRP B-NP B-NP\nfell VBD B-VP I-VP\n")
    path = tmp_path / "out.txt"
    path.write_text(text)
    gold, pred = read_conlleval_file(path)
    score = conlleval(gold, pred)
    # gold: He, reckons, the deficit, It, fell (5); guessed: He, reckons, the, deficit, It,
    # fell (I-VP after B-NP starts a chunk) (6); correct: He, reckons, It, fell (4)
    assert (score.found_correct, score.found_guessed, score.correct_chunks) == (5, 6, 4)
    assert score.f1 == pytest.approx(2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5))
    assert score.accuracy == pytest.approx(4 / 6)


def test_bmes_word_f1():
    gold = [["B", "E", "S", "B", "M", "E"]]
    pred = [["B", "E", "S", "B", "E", "S"]]
    score = conlleval([bmes_to_iobes(s) for s in gold], [bmes_to_iobes(s) for s in pred])
    # words gold: 我们|爱|北京市 ; predicted 我们|爱|北京|市 -> 2 correct of 3 gold, 4 predicted
    assert (score.found_correct, score.found_guessed, score.correct_chunks) == (3, 4, 2)
    with pytest.raises(ValueError, match="tag 1"):
        bmes_to_iobes(["B", "X"])
