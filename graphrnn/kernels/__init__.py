"""Fused kernels the cells offer to the engine's drivers: one autograd node for a whole loop.

* :mod:`.lstm_chain`: the LSTM family along chains (offered by ``LSTMCell.chain_kernel``);
* :mod:`.gru_chain`: the GRU along chains, both formulations (``GRUCell.chain_kernel``);
* :mod:`.srn_chain`: the Elman SRN along chains, tanh or relu (``SRNCell.chain_kernel``);
* :mod:`.tree_lstm`: the N-ary Tree-LSTM over tree levels (``NaryTreeLSTMCell.level_kernel``);
* :mod:`.pointwise`: the pointwise helpers both use, and the measured choice of a tanh route;
* :mod:`.products`: the repeated products ``x @ W.t()`` through the path measured fastest here.
* :mod:`.workspace`: scratch buffers the backward passes reuse across calls (no page faults).

They take tensors and weights, never cells, so they import nothing above them.
"""
