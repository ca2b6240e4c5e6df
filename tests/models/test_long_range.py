import pytest
import torch

from graphrnn.datasets.sequences import first_symbol_data
from graphrnn.models.long_range import LongRangeClassifier, accuracy_on, long_range_step

torch.set_num_threads(1)


@pytest.mark.parametrize("cell", ["srn", "lstm", "gru"])
def test_classifier_reads_the_last_state(cell):
    torch.manual_seed(0)
    x, y = first_symbol_data(5, 7, num_symbols=3, seed=0)
    model = LongRangeClassifier(cell, 4, 8, 3, gate_init="chrono", max_length=7)
    logits = model(x)
    assert logits.shape == (5, 3)
    out, _ = model.rnn(x)
    assert torch.allclose(logits, model.head(out[-1]), atol=1e-6)
    loss, metrics = long_range_step(model, (x.transpose(0, 1), y))
    assert torch.allclose(loss, torch.nn.functional.cross_entropy(logits, y))
    assert float(metrics["acc"]) == accuracy_on(model, x, y)


def test_gate_initialisations():
    lstm = LongRangeClassifier("lstm", 4, 8, 3, gate_init="chrono", max_length=50).rnn
    assert lstm.bias_ih_l0[8:16].min() >= 0 and torch.allclose(lstm.bias_ih_l0[:8],
                                                                -lstm.bias_ih_l0[8:16])
    assert lstm.bias_ih_l0[8:16].max() <= torch.log(torch.tensor(49.0))
    gru = LongRangeClassifier("gru", 4, 8, 3, gate_init="chrono", max_length=50).rnn
    assert gru.bias_hh_l0[8:16].abs().max() == 0 and gru.bias_ih_l0[8:16].min() >= 0
    torch.manual_seed(0)
    plain = LongRangeClassifier("lstm", 4, 8, 3, gate_init="default").rnn.bias_ih_l0.clone()
    torch.manual_seed(0)
    forget = LongRangeClassifier("lstm", 4, 8, 3, gate_init="forget1").rnn.bias_ih_l0
    assert torch.allclose(forget[8:16], plain[8:16] + 1) and torch.equal(forget[:8], plain[:8])
    with pytest.raises(ValueError, match="gate_init"):
        LongRangeClassifier("lstm", 4, 8, 3, gate_init="ones")
    with pytest.raises(ValueError, match="cell"):
        LongRangeClassifier("tree", 4, 8, 3)
