"""State-dict names of the user-facing modules, written down from the code before the engine
redesign: saved checkpoints (users' and this project's runs) must keep loading."""
import pytest
import torch
from torch import nn

import graphrnn.nn as G


def independent(fv, fe, fu, out):
    return G.GraphIndependent(nn.Linear(fe, out), nn.Linear(fv, out), nn.Linear(fu, out))


BUILDERS = {
    "GraphNetwork_recurrent": lambda: G.GraphNetwork(nn.GRUCell(8, 4), nn.LSTMCell(6 + 4, 6),
                                                     nn.RNNCell(4 + 6 + 3, 3)),
    "GraphNetwork_mlp": lambda: G.GraphNetwork(G.mlp(4 + 12 + 3, 8, 4), nn.Linear(6 + 4 + 3, 6),
                                               G.mlp(3 + 4 + 6, 8, 3, 3, layer_norm=True)),
    "GNBlock": lambda: G.GNBlock(6, 4, 3, hidden_features=8, layer_norm=True),
    "InteractionNetwork": lambda: G.InteractionNetwork(G.mlp(16, 8, 4), G.mlp(10, 8, 6)),
    "DeepSets": lambda: G.DeepSets(G.mlp(6, 8, 6), G.mlp(6, 8, 3)),
    "GraphIndependent": lambda: independent(6, 4, 3, 5),
    "EncodeProcessDecode": lambda: G.EncodeProcessDecode(
        independent(6, 4, 3, 5),
        G.GNBlock(10, 10, 10, hidden_features=8, node_out=5, edge_out=5, global_out=5),
        independent(5, 5, 5, 2), num_steps=2),
    "GatedMessagePassing_gru_linear": lambda: G.GatedMessagePassing(
        3, 6, num_steps=3, message="linear", num_edge_types=2),
    "GatedMessagePassing_lstm_edge_unshared": lambda: G.GatedMessagePassing(
        3, 6, num_steps=2, message="edge_network", edge_dim=2, cell="lstm", share_weights=False),
    "DirectedMessagePassing": lambda: G.DirectedMessagePassing(5, 3, 8, bias=True),
    "LSTM": lambda: G.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3),
    "LSTM_peephole": lambda: G.LSTM(4, 6, peephole=True, coupled=True),
    "GRU": lambda: G.GRU(4, 6, num_layers=2),
    "RNN": lambda: G.RNN(4, 6, bias=False),
    "TreeLSTM_child_sum": lambda: G.TreeLSTM(4, 6),
    "TreeLSTM_nary": lambda: G.TreeLSTM(4, 6, variant="nary", arity=3),
    "TreeGRU": lambda: G.TreeGRU(4, 6),
    "RecursiveNet": lambda: G.RecursiveNet(4, 6),
}


# name -> shape, in state-dict order
KEYS = {
    "GraphNetwork_recurrent": [
        ("edge_model.weight_ih", (12, 8)), ("edge_model.weight_hh", (12, 4)),
        ("edge_model.bias_ih", (12,)), ("edge_model.bias_hh", (12,)),
        ("node_model.weight_ih", (24, 10)), ("node_model.weight_hh", (24, 6)),
        ("node_model.bias_ih", (24,)), ("node_model.bias_hh", (24,)),
        ("global_model.weight_ih", (3, 13)), ("global_model.weight_hh", (3, 3)),
        ("global_model.bias_ih", (3,)), ("global_model.bias_hh", (3,)),
    ],
    "GraphNetwork_mlp": [
        ("edge_model.0.weight", (8, 19)), ("edge_model.0.bias", (8,)),
        ("edge_model.2.weight", (4, 8)), ("edge_model.2.bias", (4,)),
        ("node_model.weight", (6, 13)), ("node_model.bias", (6,)),
        ("global_model.0.weight", (8, 13)), ("global_model.0.bias", (8,)),
        ("global_model.2.weight", (8, 8)), ("global_model.2.bias", (8,)),
        ("global_model.4.weight", (3, 8)), ("global_model.4.bias", (3,)),
        ("global_model.5.weight", (3,)), ("global_model.5.bias", (3,)),
    ],
    "GNBlock": [
        ("edge_model.0.weight", (8, 19)), ("edge_model.0.bias", (8,)),
        ("edge_model.2.weight", (8, 8)), ("edge_model.2.bias", (8,)),
        ("edge_model.3.weight", (8,)), ("edge_model.3.bias", (8,)),
        ("node_model.0.weight", (8, 17)), ("node_model.0.bias", (8,)),
        ("node_model.2.weight", (8, 8)), ("node_model.2.bias", (8,)),
        ("node_model.3.weight", (8,)), ("node_model.3.bias", (8,)),
        ("global_model.0.weight", (8, 19)), ("global_model.0.bias", (8,)),
        ("global_model.2.weight", (8, 8)), ("global_model.2.bias", (8,)),
        ("global_model.3.weight", (8,)), ("global_model.3.bias", (8,)),
    ],
    "InteractionNetwork": [
        ("edge_model.0.weight", (8, 16)), ("edge_model.0.bias", (8,)),
        ("edge_model.2.weight", (4, 8)), ("edge_model.2.bias", (4,)),
        ("node_model.0.weight", (8, 10)), ("node_model.0.bias", (8,)),
        ("node_model.2.weight", (6, 8)), ("node_model.2.bias", (6,)),
    ],
    "DeepSets": [
        ("node_model.0.weight", (8, 6)), ("node_model.0.bias", (8,)),
        ("node_model.2.weight", (6, 8)), ("node_model.2.bias", (6,)),
        ("global_model.0.weight", (8, 6)), ("global_model.0.bias", (8,)),
        ("global_model.2.weight", (3, 8)), ("global_model.2.bias", (3,)),
    ],
    "GraphIndependent": [
        ("edge_model.weight", (5, 4)), ("edge_model.bias", (5,)), ("node_model.weight", (5, 6)),
        ("node_model.bias", (5,)), ("global_model.weight", (5, 3)), ("global_model.bias", (5,)),
    ],
    "EncodeProcessDecode": [
        ("encoder.edge_model.weight", (5, 4)), ("encoder.edge_model.bias", (5,)),
        ("encoder.node_model.weight", (5, 6)), ("encoder.node_model.bias", (5,)),
        ("encoder.global_model.weight", (5, 3)), ("encoder.global_model.bias", (5,)),
        ("core.edge_model.0.weight", (8, 40)), ("core.edge_model.0.bias", (8,)),
        ("core.edge_model.2.weight", (5, 8)), ("core.edge_model.2.bias", (5,)),
        ("core.node_model.0.weight", (8, 25)), ("core.node_model.0.bias", (8,)),
        ("core.node_model.2.weight", (5, 8)), ("core.node_model.2.bias", (5,)),
        ("core.global_model.0.weight", (8, 20)), ("core.global_model.0.bias", (8,)),
        ("core.global_model.2.weight", (5, 8)), ("core.global_model.2.bias", (5,)),
        ("decoder.edge_model.weight", (2, 5)), ("decoder.edge_model.bias", (2,)),
        ("decoder.node_model.weight", (2, 5)), ("decoder.node_model.bias", (2,)),
        ("decoder.global_model.weight", (2, 5)), ("decoder.global_model.bias", (2,)),
    ],
    "GatedMessagePassing_gru_linear": [
        ("message.0.weight", (2, 6, 6)), ("cell.weight_ih", (18, 6)), ("cell.weight_hh", (18, 6)),
        ("cell.bias_ih", (18,)), ("cell.bias_hh", (18,)),
    ],
    "GatedMessagePassing_lstm_edge_unshared": [
        ("message.0.bias", (6,)), ("message.0.net.0.weight", (128, 2)),
        ("message.0.net.0.bias", (128,)), ("message.0.net.2.weight", (36, 128)),
        ("message.0.net.2.bias", (36,)), ("message.1.bias", (6,)),
        ("message.1.net.0.weight", (128, 2)), ("message.1.net.0.bias", (128,)),
        ("message.1.net.2.weight", (36, 128)), ("message.1.net.2.bias", (36,)),
        ("cell.weight_ih", (24, 6)), ("cell.weight_hh", (24, 6)), ("cell.bias_ih", (24,)),
        ("cell.bias_hh", (24,)),
    ],
    "DirectedMessagePassing": [
        ("lin_input.weight", (8, 8)), ("lin_input.bias", (8,)), ("lin_message.weight", (8, 8)),
        ("lin_message.bias", (8,)), ("lin_output.weight", (8, 13)), ("lin_output.bias", (8,)),
    ],
    "LSTM": [
        ("weight_ih_l0", (24, 4)), ("weight_hh_l0", (24, 3)), ("bias_ih_l0", (24,)),
        ("bias_hh_l0", (24,)), ("weight_hr_l0", (3, 6)), ("weight_ih_l0_reverse", (24, 4)),
        ("weight_hh_l0_reverse", (24, 3)), ("bias_ih_l0_reverse", (24,)),
        ("bias_hh_l0_reverse", (24,)), ("weight_hr_l0_reverse", (3, 6)),
        ("weight_ih_l1", (24, 6)), ("weight_hh_l1", (24, 3)), ("bias_ih_l1", (24,)),
        ("bias_hh_l1", (24,)), ("weight_hr_l1", (3, 6)), ("weight_ih_l1_reverse", (24, 6)),
        ("weight_hh_l1_reverse", (24, 3)), ("bias_ih_l1_reverse", (24,)),
        ("bias_hh_l1_reverse", (24,)), ("weight_hr_l1_reverse", (3, 6)),
    ],
    "LSTM_peephole": [
        ("weight_ih_l0", (18, 4)), ("weight_hh_l0", (18, 6)), ("bias_ih_l0", (18,)),
        ("bias_hh_l0", (18,)), ("weight_ci_l0", (6,)), ("weight_co_l0", (6,)),
    ],
    "GRU": [
        ("weight_ih_l0", (18, 4)), ("weight_hh_l0", (18, 6)), ("bias_ih_l0", (18,)),
        ("bias_hh_l0", (18,)), ("weight_ih_l1", (18, 6)), ("weight_hh_l1", (18, 6)),
        ("bias_ih_l1", (18,)), ("bias_hh_l1", (18,)),
    ],
    "RNN": [
        ("weight_ih_l0", (6, 4)), ("weight_hh_l0", (6, 6)),
    ],
    "TreeLSTM_child_sum": [
        ("cell.weight_ih", (24, 4)), ("cell.weight_hh", (24, 6)), ("cell.bias_ih", (24,)),
        ("cell.bias_hh", (24,)),
    ],
    "TreeLSTM_nary": [
        ("cell.weight_ih", (24, 4)), ("cell.weight_hh", (36, 18)), ("cell.bias_ih", (24,)),
        ("cell.bias_hh", (24,)),
    ],
    "TreeGRU": [
        ("cell.weight_ih", (18, 4)), ("cell.weight_hh", (18, 6)), ("cell.bias_ih", (18,)),
        ("cell.bias_hh", (18,)),
    ],
    "RecursiveNet": [
        ("cell.weight_ih", (6, 4)), ("cell.weight_hh", (6, 12)), ("cell.bias_ih", (6,)),
        ("cell.bias_hh", (6,)),
    ],
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_state_dict_names_and_shapes_are_unchanged(name):
    torch.manual_seed(0)
    model = BUILDERS[name]()
    assert [(k, tuple(t.shape)) for k, t in model.state_dict().items()] == KEYS[name]
    model.load_state_dict(BUILDERS[name]().state_dict())   # and a saved one loads
