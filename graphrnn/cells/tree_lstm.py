"""Tree-LSTM cells (Tai, Socher & Manning 2015): child-sum (any number of children, summed) and
N-ary (at most N ordered children, one weight matrix per position).

Both see their children one by one through the layouts of :mod:`graphrnn.cells.tree`. The N-ary
cell offers the engine a fused level kernel (:mod:`graphrnn.kernels.tree_lstm`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.tree_lstm import leaf_gate_rows, nary_tree_lstm_levels
from .base import LevelKernel, State
from .tree import TreeCell, _bias_sum, _uniform_degree


class ChildSumTreeLSTMCell(TreeCell):
    r"""Child-Sum Tree-LSTM cell (Tai, Socher & Manning 2015, eqs. 2-8), any number of children.

    For node :math:`j` with children :math:`C(j)`:

    .. math::
        \tilde h_j &= \textstyle\sum_{k \in C(j)} h_k \\
        i_j &= \sigma(W^{(i)} x_j + U^{(i)} \tilde h_j + b^{(i)}) \\
        f_{jk} &= \sigma(W^{(f)} x_j + U^{(f)} h_k + b^{(f)}) \quad \text{one per child } k \\
        o_j &= \sigma(W^{(o)} x_j + U^{(o)} \tilde h_j + b^{(o)}) \\
        u_j &= \tanh(W^{(u)} x_j + U^{(u)} \tilde h_j + b^{(u)}) \\
        c_j &= i_j \odot u_j + \textstyle\sum_{k \in C(j)} f_{jk} \odot c_k \\
        h_j &= o_j \odot \tanh(c_j)

    The :math:`W^{(f)} x_j` term is in every forget gate. A leaf has :math:`\tilde h_j = 0` and no
    forget term; a node without a word has :math:`x_j = 0`. On a tree where every node has one child
    this is exactly :class:`torch.nn.LSTM` run from the deepest node up.

    Tai, Socher & Manning, "Improved Semantic Representations From Tree-Structured Long Short-Term
    Memory Networks", ACL 2015, https://arxiv.org/abs/1503.00075.

    Args:
        input_size: I. hidden_size: H. bias: whether there are biases. Default: ``True``.

    Parameters, named and laid out as ``torch.nn.LSTMCell`` (gate order i, f, g=u, o), so its
    ``state_dict`` loads into ``torch.nn.LSTMCell`` and back: ``weight_ih`` (4H, I) = [W^(i); W^(f);
    W^(u); W^(o)], ``weight_hh`` (4H, H) = [U^(i); U^(f); U^(u); U^(o)], ``bias_ih``, ``bias_hh``
    (4H), whose sum is b. State: ``(h, c)``, each (n, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__(input_size, hidden_size, bias)
        self._register_weights(4 * hidden_size, (4 * hidden_size, hidden_size))
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size, self.hidden_size)

    def leaf(self, xw: Tensor) -> State:
        i, _, g, o = xw.chunk(4, 1)
        c = torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def _finish(self, gates: Tensor, fc: Tensor) -> State:
        # gates (n, 4H) with U h~ added (its forget block is unused); fc (n, H) = sum_k f_jk c_k
        i, _, g, o = gates.chunk(4, 1)
        c = torch.addcmul(fc, torch.sigmoid(i), torch.tanh(g))
        return torch.sigmoid(o) * torch.tanh(c), c

    def step(self, xw: Tensor, children: State) -> State:
        h, c = children                                   # (n, K, H) each
        size = self.hidden_size
        gates = torch.addmm(xw, h.sum(1), self.weight_hh.t())
        u_f = self.weight_hh[size:2 * size]
        f = torch.sigmoid(xw.chunk(4, 1)[1].unsqueeze(1) + h @ u_f.t())   # (n, K, H)
        return self._finish(gates, (f * c).sum(1))

    def combine(self, xw: Tensor, children: State, index: Tensor, slot: Tensor,
                num_nodes: int, width: int | None = None) -> State:
        if index.numel() == 0:
            return self.leaf(xw)
        k = _uniform_degree(index, slot, num_nodes, width)
        if k is not None:                                 # every node has k children: a view
            return self.step(xw, tuple(s.view(num_nodes, k, -1) for s in children))
        h, c = children                                   # (e, H): one row per child
        size = self.hidden_size
        h_sum = h.new_zeros(num_nodes, size).index_add(0, index, h)
        gates = torch.addmm(xw, h_sum, self.weight_hh.t())
        f = torch.sigmoid(torch.addmm(xw[:, size:2 * size].index_select(0, index), h,
                                      self.weight_hh[size:2 * size].t()))
        fc = c.new_zeros(num_nodes, size).index_add(0, index, f * c)
        return self._finish(gates, fc)


class NaryTreeLSTMCell(TreeCell):
    r"""N-ary Tree-LSTM cell (Tai, Socher & Manning 2015, eqs. 9-14): at most N ordered children,
    one weight matrix per child position.

    For node :math:`j` with children :math:`h_{j1}, \dots, h_{jN}` (missing ones are zeros):

    .. math::
        i_j &= \sigma\big(W^{(i)} x_j + \textstyle\sum_{l=1}^N U^{(i)}_l h_{jl} + b^{(i)}\big) \\
        f_{jk} &= \sigma\big(W^{(f)} x_j + \textstyle\sum_{l=1}^N U^{(f)}_{kl} h_{jl} + b^{(f)}\big)
            \quad k = 1, \dots, N \\
        o_j &= \sigma\big(W^{(o)} x_j + \textstyle\sum_{l=1}^N U^{(o)}_l h_{jl} + b^{(o)}\big) \\
        u_j &= \tanh\big(W^{(u)} x_j + \textstyle\sum_{l=1}^N U^{(u)}_l h_{jl} + b^{(u)}\big) \\
        c_j &= i_j \odot u_j + \textstyle\sum_{l=1}^N f_{jl} \odot c_{jl} \\
        h_j &= o_j \odot \tanh(c_j)

    Every forget gate :math:`f_{jk}` has the :math:`W^{(f)} x_j` term and its own row of
    :math:`U^{(f)}_{kl}` blocks, so it sees all siblings. A node with more than N children is an
    error. With N = 1 this is :class:`torch.nn.LSTMCell`.

    Tai, Socher & Manning, "Improved Semantic Representations From Tree-Structured Long Short-Term
    Memory Networks", ACL 2015, https://arxiv.org/abs/1503.00075.

    Args:
        input_size: I. hidden_size: H.
        arity: N. Default: 2 (binary constituency trees).
        bias: whether there are biases. Default: ``True``.

    Parameters: ``weight_ih`` (4H, I) = [W^(i); W^(f); W^(u); W^(o)] (torch's gate order
    i, f, g, o); ``weight_hh`` ((3+N)H, N H), rows [U^(i); U^(f)_1; ...; U^(f)_N; U^(u); U^(o)],
    the columns ``l*H:(l+1)*H`` of each row block acting on child l (so ``U^(f)_{kl}`` is rows of
    block ``f_k``, columns of child l); ``bias_ih``, ``bias_hh`` (4H), whose sum is b.
    State: ``(h, c)``, each (n, H).
    """

    def __init__(self, input_size: int, hidden_size: int, arity: int = 2, bias: bool = True):
        super().__init__(input_size, hidden_size, bias)
        if arity < 1:
            raise ValueError(f"arity must be >= 1, got {arity}")
        self.arity = arity
        self._register_weights(4 * hidden_size, ((3 + arity) * hidden_size, arity * hidden_size))
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size, self.hidden_size)

    leaf = ChildSumTreeLSTMCell.leaf

    def step(self, xw: Tensor, children: State) -> State:
        h, c = children                                   # (n, K, H), K <= N
        n, k, size = h.shape
        num = self.arity
        if k < num:                                       # missing trailing children: zeros
            h, c = (F.pad(s, (0, 0, 0, num - k)) for s in (h, c))
        gh = h.reshape(n, num * size) @ self.weight_hh.t()  # (n, (3+N) H)
        # split (not slicing) so that backward joins the gate gradients with one cat instead of
        # zero-filling a full (n, (3+N) H) tensor per slice
        xi, xf, xg, xo = xw.chunk(4, 1)
        hi, hf, hg, ho = gh.split([size, num * size, size, size], 1)
        i = torch.sigmoid(xi + hi)
        f = torch.sigmoid(xf.unsqueeze(1) + hf.view(n, num, size))
        g = torch.tanh(xg + hg)
        o = torch.sigmoid(xo + ho)
        c = torch.addcmul((f * c).sum(1), i, g)
        return o * torch.tanh(c), c

    def level_kernel(self) -> LevelKernel | None:
        """The fused level loop of :mod:`graphrnn.kernels.tree_lstm`: sources (leaves)
        read only the gates ``i, o, g`` of their projection. Offered only to a cell whose class
        keeps this class's arithmetic (a subclass overriding any of ``project``, ``leaf``,
        ``step``, ``combine`` runs the generic loop over its own methods)."""
        if not self._keeps(NaryTreeLSTMCell, "project", "leaf", "step", "combine"):
            return None
        rows = leaf_gate_rows(self.hidden_size, self.weight_ih.device)

        def project_sources(x: Tensor) -> Tensor:
            bias = _bias_sum(self)
            return F.linear(x, self.weight_ih.index_select(0, rows),
                            None if bias is None else bias.index_select(0, rows))

        def run(source_xw: Tensor, other_xw: Tensor, schedule) -> State:
            return nary_tree_lstm_levels(source_xw, other_xw, self.weight_hh, schedule, self.arity)

        return LevelKernel(run, project_sources, lambda xw: xw.index_select(1, rows))


__all__ = ["ChildSumTreeLSTMCell", "NaryTreeLSTMCell"]
