import random

import pytest
import torch

from graphrnn.datasets.addition import Learn2Carry, TrainingDraws, from_digits, make_addition
from graphrnn.models.addition import AdditionRNN, add_numbers, addition_step, evaluate_addition
from graphrnn.train import Trainer

torch.set_num_threads(1)


def exact_elman_adder(M: float = 20.0, L: float = 20.0) -> AdditionRNN:
    """An Elman network that adds exactly, built by hand: hidden unit k (k = 1..19) is
    tanh(M (S_t - k + 1/4)), a step detecting S_t = a_t + b_t + carry_{t-1} >= k, and the carry is
    unit 10 of the previous step. The zero initial state reads as carry 1/2, which the 1/4
    offset treats as 0. The output logits are L * [S_t mod 10 == j], a difference of steps."""
    model = AdditionRNN(hidden_size=19, cell="rnn")
    rnn, head = model.rnn, model.head
    k = torch.arange(1, 20, dtype=torch.float32)
    digits = torch.arange(10, dtype=torch.float32)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(M * torch.cat([digits, digits]).expand(19, 20))
        rnn.bias_ih_l0.copy_(M * (0.75 - k))
        rnn.bias_hh_l0.zero_()
        rnn.weight_hh_l0.zero_()
        rnn.weight_hh_l0[:, 9] = M / 2  # unit k = 10 is index 9
        # steps s_0..s_20 = P h + q: s_0 = 1, s_k = (h_k + 1) / 2, s_20 = 0
        P = torch.zeros(21, 19)
        P[1:20] = 0.5 * torch.eye(19)
        q = torch.zeros(21)
        q[0], q[1:20] = 1.0, 0.5
        D = torch.zeros(20, 21)  # indicator of S == k: s_k - s_{k+1}
        D[range(20), range(20)], D[range(20), range(1, 21)] = 1.0, -1.0
        G = torch.cat([torch.eye(10), torch.eye(10)], 1)  # S mod 10
        head.weight.copy_(L * G @ D @ P)
        head.bias.copy_(L * G @ D @ q)
    return model


def test_hand_built_elman_network_adds_numbers_of_any_length():
    model = exact_elman_adder()
    rng = random.Random(0)
    for digits in (3, 9, 30, 60):
        pairs = [(rng.randrange(10 ** digits), rng.randrange(10 ** digits)) for _ in range(200)]
        pairs += [(10 ** digits - 1, 1), (10 ** digits - 1, 10 ** digits - 1), (0, 0)]
        batch = make_addition(pairs, digits)
        result = evaluate_addition(model, batch)
        assert result["exact_match"] == 1.0 and result["wrong"] == 0, digits
        assert from_digits(add_numbers(model, batch.a, batch.b)) == [a + b for a, b in pairs]


def test_step_metrics_and_evaluation_counts():
    model = exact_elman_adder()
    kw = {"seed": 0, "test_size": 50, "long_digits": (20,), "long_size": 50}
    loss, metrics = addition_step(model, Learn2Carry("test", **kw).batch)
    assert loss.item() < 1e-3
    assert float(metrics["digit_acc"]) == 1.0 and metrics["exact_match"] == 1.0
    with torch.no_grad():  # break the rule for a sum digit of 9 -> every sum holding a 9 fails
        model.head.bias[9] -= 100.0
    long = Learn2Carry("long", digits=20, **kw).batch
    result = evaluate_addition(model, long, batch_size=7)
    s = long.sum
    assert result["count"] == 50
    assert result["wrong"] == int((s == 9).any(1).sum()) > 0
    assert result["exact_match"] == pytest.approx(1 - result["wrong"] / 50)


@pytest.mark.parametrize("cell,embedding_dim", [("gru", None), ("lstm", 4), ("rnn", 3)])
def test_shapes_and_any_length(cell, embedding_dim):
    model = AdditionRNN(8, cell, embedding_dim=embedding_dim)
    a = torch.randint(0, 10, (5, 10))
    assert model(a, a).shape == (5, 10, 10)
    assert model(a[:, :3], a[:, :3]).shape == (5, 3, 10)  # the chain runs any length
    assert model.config()["cell"] == cell


def test_errors_name_the_input():
    model = AdditionRNN(8)
    a = torch.randint(0, 10, (2, 4))
    with pytest.raises(ValueError, match="a and b"):
        model(a, a[:, :3])
    with pytest.raises(ValueError, match="b must hold long digits in \\[0, 10\\)"):
        model(a, a + 10)
    with pytest.raises(ValueError, match="a must hold long digits"):
        model(a.float(), a)
    with pytest.raises(ValueError, match="cell"):
        AdditionRNN(cell="tree")


def test_training_with_the_trainer_reduces_the_loss(tmp_path):
    kw = {"seed": 1, "test_size": 100, "long_digits": (20,), "long_size": 100}
    train = TrainingDraws(64, 40, **kw)
    torch.manual_seed(0)
    model = AdditionRNN(16, "gru")
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=2e-2), addition_step,
                      max_epochs=3, seed=0, progress=False, out_dir=tmp_path, tensorboard=False,
                      config=model.config())
    history = trainer.fit(train, [Learn2Carry("val", size=200, **kw).batch])
    assert history[-1]["val_loss"] < history[0]["train_loss"] * 0.7
    assert history[-1]["val_digit_acc"] > 0.6
    assert (tmp_path / "best.pt").is_file()
