"""Tree cells: one step for a whole level of tree nodes, each node seeing its children one by one.

A tree is a graph with edges ``child -> parent`` (see :func:`graphrnn.structures.tree_graph`); its
topological levels are node heights, so a level's children are all finished when it runs. Unlike
the chain cells, whose predecessors are summed before the step, these cells need their children
separately (one forget gate per child, one weight matrix per child position), so they override
:meth:`~graphrnn.cells.RecurrentCell.combine`.

The engine gives ``combine`` the children's states one per edge, sorted by parent and then by child
position (``slot``). Two layouts are used inside, with no Python loop over children:

* **dense** ``(n, K, size)``: child ``k`` of node ``j`` at ``[j, k]``, missing children as zeros.
  When every node of the level has the same number of children (all internal levels of a binarised
  tree such as SST's) this is a free ``view`` of the edge states; otherwise one ``index_copy``.
* **sparse** (child-sum cells only, when degrees differ): per-edge terms and ``index_add`` sums, so
  a node with many children costs nothing to the others.

Leaves (a level without incoming edges) skip the hidden matmuls altogether.

The Tree-LSTMs are in :mod:`graphrnn.cells.tree_lstm`.

Every cell's :meth:`step` takes dense children ``(n, K, size)`` per state component, which is also
what the ``torch.nn``-style :meth:`TreeCell.forward` takes; a zero child is exactly a missing child
for every cell here (it adds nothing to a sum and its cell state is zero).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import RecurrentCell, State
from .srn import NONLINEARITIES

# -- layouts ----------------------------------------------------------------------------------

def _uniform_degree(index: Tensor, slot: Tensor, num_nodes: int,
                    width: int | None = None) -> int | None:
    """``k`` if the edges are exactly ``k`` children for each of ``num_nodes`` parents, listed
    parent-major in slot order (so the edge states ``view`` as ``(n, k, size)``); else ``None``.
    With ``width`` (the most children of a node, from a schedule, whose edges are so listed) the
    answer needs no look at the device."""
    e = index.numel()
    if e == 0 or num_nodes == 0 or e % num_nodes:
        return None
    k = e // num_nodes
    if width is not None:
        return k if k == width else None
    pos = index * k + slot
    if torch.equal(pos, torch.arange(e, device=index.device)):
        return k
    return None


def dense_children(states: Tensor, index: Tensor, slot: Tensor, num_nodes: int,
                   width: int, most: int | None = None) -> Tensor:
    """Edge states ``(e, size)`` as ``(num_nodes, width, size)``, child ``slot`` of node ``index``
    at ``[index, slot]`` and zeros where a node has fewer than ``width`` children.

    ``most``: the most children of any node when the caller knows it from a schedule (edges then
    listed destination-major in slot order); the checks below then read nothing from the device.

    Raises:
        ValueError: some ``slot >= width`` (a node has more than ``width`` children).
    """
    e, size = states.shape
    if most is None:
        most = int(slot.max()) + 1 if e else 0
        uniform = e == num_nodes * width and _uniform_degree(index, slot, num_nodes) == width
    else:   # scheduled edges: every node has `width` children exactly when the count says so
        uniform = e == num_nodes * width and most == width
    if most > width:
        raise ValueError(f"a node has {most} children, expected at most {width}")
    if uniform:
        return states.view(num_nodes, width, size)
    flat = states.new_zeros(num_nodes * width, size).index_copy(0, index * width + slot, states)
    return flat.view(num_nodes, width, size)


def _check_dense(cell: TreeCell, children: State, n: int) -> int:
    """Number of child positions K of dense children ``(n, K, size)``; checks their shapes."""
    if len(children) != len(cell.state_sizes):
        raise ValueError(f"{type(cell).__name__}: expected {len(cell.state_sizes)} state "
                         f"component(s) for the children, got {len(children)}")
    k = children[0].size(1) if children[0].dim() == 3 else -1
    for s, size in zip(children, cell.state_sizes):
        if s.dim() != 3 or s.size(0) != n or s.size(1) != k or s.size(2) != size:
            raise ValueError(f"{type(cell).__name__}: children must have shape (n, K, {size}) "
                             f"with n={n} nodes, got {tuple(s.shape)}")
    if cell.arity is not None and k > cell.arity:
        raise ValueError(f"{type(cell).__name__}: got {k} children per node, expected at most "
                         f"arity={cell.arity}")
    return k


def _bias_sum(cell) -> Tensor | None:
    return cell.bias_ih + cell.bias_hh if cell.bias_ih is not None else None


# -- the shared base ------------------------------------------------------------------------------

class TreeCell(RecurrentCell):
    """Base of the tree cells: children arrive one by one (``combine``) or dense (``step``).

    Subclasses set ``arity`` (``None``: any number of children) and define :meth:`leaf` (the
    step of a node without children) and :meth:`step`; one state component and the input
    projection :meth:`project` are shared.
    """

    arity: int | None = None

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)  # the LSTM cells add their memory

    def project(self, x: Tensor) -> Tensor:
        """Inputs (n, I) -> (n, G). Every bias of a tree cell is additive (the GRU's reset gate
        acts before its matmul), so the two fold into one."""
        return F.linear(x, self.weight_ih, _bias_sum(self))

    def leaf(self, xw: Tensor) -> State:
        """The state of nodes without children: projected inputs (n, G) -> state."""
        raise NotImplementedError

    def step(self, xw: Tensor, children: State) -> State:
        """One step: projected inputs (n, G) and dense children, per component (n, K, size) with
        zeros for missing children -> the nodes' states (n, size)."""
        raise NotImplementedError

    def combine(self, xw: Tensor, children: State, index: Tensor, slot: Tensor,
                num_nodes: int, width: int | None = None) -> State:
        if index.numel() == 0:
            return self.leaf(xw)
        most = width if width is not None else int(slot.max()) + 1
        if self.arity is not None and most > self.arity:
            raise ValueError(f"{type(self).__name__}(arity={self.arity}): a node has "
                             f"{most} children, expected at most {self.arity}")
        dense = self.arity if self.arity is not None else most
        return self.step(xw, tuple(dense_children(s, index, slot, num_nodes, dense, most)
                                   for s in children))

    def forward(self, input: Tensor, children: State | Tensor | None = None):
        """One step for B nodes, as the ``torch.nn`` cells.

        Args:
            input: (B, I) or (I,) node inputs (zeros for a node without a word).
            children: ``None`` for leaves, else per state component (B, K, size) (or (K, size)
                unbatched), child k of node b at ``[b, k]``, zeros for missing children.

        Returns:
            The state: ``h`` (B, H), or ``(h, c)`` for the LSTM cells.
        """
        if input.dim() not in (1, 2) or input.size(-1) != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input of shape (B, "
                             f"{self.input_size}) or ({self.input_size},), got "
                             f"{tuple(input.shape)}")
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        xw = self.project(x)
        if children is None:
            out = self.leaf(xw)
        else:
            kids = (children,) if isinstance(children, Tensor) else tuple(children)
            if unbatched:
                kids = tuple(s.unsqueeze(0) for s in kids)
            _check_dense(self, kids, x.size(0))
            out = self.step(xw, kids)
        if unbatched:
            out = tuple(s.squeeze(0) for s in out)
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.arity is not None:
            s += f", arity={self.arity}"
        if not self.bias:
            s += ", bias=False"
        return s


# -- recursive neural network ---------------------------------------------------------------------

class RecursiveNetCell(TreeCell):
    r"""Composition function of a recursive neural network (Socher et al.), with a word term.

    .. math::
        h_j = f\big(W_{ih} x_j + b_{ih} + W_{hh} [h_{j1}; h_{j2}; \dots; h_{jN}] + b_{hh}\big)

    with :math:`[h_{j1}; \dots; h_{jN}]` the node's children in order, concatenated (missing
    children as zeros) and :math:`f` = tanh. For a binary node without a word this is Socher et
    al.'s :math:`p = f(W [c_1; c_2] + b)`; a leaf is :math:`f(W_{ih} x_j + b)`, its word's
    projection. With ``arity=1`` it is the Elman cell (:class:`~graphrnn.cells.SRNCell`).

    Socher, Lin, Ng & Manning, "Parsing Natural Scenes and Natural Language with Recursive Neural
    Networks", ICML 2011; Socher et al., "Recursive Deep Models for Semantic Compositionality Over a
    Sentiment Treebank", EMNLP 2013 (the "RNN" model there).

    Args:
        input_size: I. hidden_size: H.
        arity: N, the most children a node may have. Default: 2.
        bias: whether there are ``bias_ih``, ``bias_hh``. Default: ``True``.
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.

    Parameters: ``weight_ih`` (H, I), ``weight_hh`` (H, N*H) (columns ``k*H:(k+1)*H`` act on child
    k), ``bias_ih``, ``bias_hh`` (H). State: ``(h,)``, h (n, H).
    """

    def __init__(self, input_size: int, hidden_size: int, arity: int = 2, bias: bool = True,
                 nonlinearity: str = "tanh"):
        super().__init__(input_size, hidden_size, bias)
        if arity < 1:
            raise ValueError(f"arity must be >= 1, got {arity}")
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.arity, self.nonlinearity = arity, nonlinearity
        self._register_weights(hidden_size, (hidden_size, arity * hidden_size))
        self.reset_parameters()

    def leaf(self, xw: Tensor) -> State:
        return (NONLINEARITIES[self.nonlinearity](xw),)

    def step(self, xw: Tensor, children: State) -> State:
        h = children[0]
        n, k, size = h.shape
        weight = self.weight_hh if k == self.arity else self.weight_hh[:, :k * size]
        return (NONLINEARITIES[self.nonlinearity](torch.addmm(xw, h.reshape(n, k * size),
                                                              weight.t())),)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


# -- Tree-GRU -------------------------------------------------------------------------------------

class TreeGRUCell(TreeCell):
    r"""Child-sum Tree-GRU: a GRU whose reset gate, like the Tree-LSTM's forget gate, is one per
    child, and whose update gate interpolates between the new content and the children's sum.

    .. math::
        \tilde h_j &= \textstyle\sum_{k \in C(j)} h_k \\
        r_{jk} &= \sigma(W_{ir} x_j + b_{ir} + W_{hr} h_k + b_{hr}) \quad \text{one per child } k \\
        z_j &= \sigma(W_{iz} x_j + b_{iz} + W_{hz} \tilde h_j + b_{hz}) \\
        n_j &= \tanh\big(W_{in} x_j + b_{in}
               + W_{hn} \textstyle\sum_{k} r_{jk} \odot h_k + b_{hn}\big) \\
        h_j &= (1 - z_j) \odot n_j + z_j \odot \tilde h_j

    It is the child-sum construction of Tai et al. (2015) applied to the GRU of Cho et al. (2014)
    (reset gate before the hidden matmul); a Tree-GRU of this kind is used for sentiment by
    Kokkinos & Potamianos, "Structural Attention Neural Networks for improved sentiment analysis",
    EACL 2017. With one child per node it is :class:`~graphrnn.cells.GRUCell` with
    ``reset_after=False``, and its ``state_dict`` loads there.

    Args:
        input_size: I. hidden_size: H. bias: whether there are biases. Default: ``True``.

    Parameters as ``torch.nn.GRUCell`` (gate order r, z, n): ``weight_ih`` (3H, I), ``weight_hh``
    (3H, H), ``bias_ih``, ``bias_hh`` (3H). State: ``(h,)``, h (n, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__(input_size, hidden_size, bias)
        self._register_weights(3 * hidden_size, (3 * hidden_size, hidden_size))
        self.reset_parameters()

    def leaf(self, xw: Tensor) -> State:
        _, z, n = xw.chunk(3, 1)
        n = torch.tanh(n)
        return (n - torch.sigmoid(z) * n,)

    def _finish(self, xw: Tensor, h_sum: Tensor, rh: Tensor) -> State:
        size = self.hidden_size
        z = torch.sigmoid(torch.addmm(xw[:, size:2 * size], h_sum,
                                      self.weight_hh[size:2 * size].t()))
        n = torch.tanh(torch.addmm(xw[:, 2 * size:], rh, self.weight_hh[2 * size:].t()))
        return (torch.addcmul(n, z, h_sum - n),)

    def step(self, xw: Tensor, children: State) -> State:
        h = children[0]                                   # (n, K, H)
        size = self.hidden_size
        r = torch.sigmoid(xw[:, :size].unsqueeze(1) + h @ self.weight_hh[:size].t())
        return self._finish(xw, h.sum(1), (r * h).sum(1))

    def combine(self, xw: Tensor, children: State, index: Tensor, slot: Tensor,
                num_nodes: int, width: int | None = None) -> State:
        if index.numel() == 0:
            return self.leaf(xw)
        k = _uniform_degree(index, slot, num_nodes, width)
        if k is not None:
            return self.step(xw, (children[0].view(num_nodes, k, -1),))
        h = children[0]
        size = self.hidden_size
        r = torch.sigmoid(torch.addmm(xw[:, :size].index_select(0, index), h,
                                      self.weight_hh[:size].t()))
        h_sum = h.new_zeros(num_nodes, size).index_add(0, index, h)
        rh = h.new_zeros(num_nodes, size).index_add(0, index, r * h)
        return self._finish(xw, h_sum, rh)


__all__ = ["TreeCell", "RecursiveNetCell", "TreeGRUCell", "dense_children"]
