"""Tree-structured recurrent networks over PyG trees: :class:`TreeLSTM`, :class:`TreeGRU` and
:class:`RecursiveNet`.

The modules are drivers in the ``torch.nn`` sense: they own a cell from :mod:`graphrnn.cells.tree`
(``module.cell``) and run it over a ``Data``/``Batch`` of trees with edges ``child -> parent``
(:func:`graphrnn.structures.tree_graph`), leaves first, one level (node height) at a time. The
schedule comes from :func:`graphrnn.schedule.schedule_of` (computed once per batch and cached on
it; with :class:`~graphrnn.schedule.AddLevels` in the data pipeline, a batch needs only two sorts).

Every module returns the state of every node and the state of the roots:

    output, (h_n, c_n) = TreeLSTM(300, 150)(batch, x)    # output (N, H); h_n, c_n (R, H)
    output, h_n = RecursiveNet(300, 150)(batch, x)

A root is a node without a parent; in a batch of trees made by ``tree_graph`` (root = node 0 of each
tree) the roots are in graph order, one per tree.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..cells.base import LevelKernel, State
from ..cells.tree import RecursiveNetCell, TreeCell, TreeGRUCell
from ..cells.tree_lstm import ChildSumTreeLSTMCell, NaryTreeLSTMCell
from ..engine import permute_rows, propagate
from ..schedule import Schedule, schedule_of

TREE_LSTM_VARIANTS = ("child_sum", "nary")


def tree_roots(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Ids of the nodes without a parent (no outgoing ``child -> parent`` edge), ascending."""
    is_root = torch.ones(num_nodes, dtype=torch.bool, device=edge_index.device)
    is_root[edge_index[0]] = False
    return is_root.nonzero().flatten()


class TreeRNNBase(nn.Module):
    """The driver shared by the tree modules: schedule, hoisted projection, level loop, roots.

    Args:
        cell: a :class:`~graphrnn.cells.tree.TreeCell`.
    """

    def __init__(self, cell: TreeCell):
        super().__init__()
        self.cell = cell

    @property
    def input_size(self) -> int:
        return self.cell.input_size

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    def _check_arity(self, schedule: Schedule) -> None:
        arity = self.cell.arity
        if arity is None or schedule.edge_slot.numel() == 0:
            return
        most, at = schedule.edge_slot.max(0)
        if int(most) >= arity:
            node = int(schedule.order[schedule.edge_dst[at]])
            count = int((schedule.edge_dst == schedule.edge_dst[at]).sum())
            raise ValueError(f"{type(self).__name__}: node {node} has {count} children, expected "
                             f"at most arity={arity}; use a larger arity, binarize the trees, or "
                             f"the child-sum variant")

    def states(self, data, x: Tensor | None = None, has_input: Tensor | None = None,
               input_index: Tensor | None = None) -> State:
        """The state of every node, per component (N, size), in node order.

        Args:
            data: a PyG ``Data``/``Batch`` of trees, edges ``child -> parent`` (``edge_index``,
                ``num_nodes``).
            x: (N, I) node inputs, zeros for nodes without a word. Default: ``data.x``.
            has_input: optional (N,) bool mask of the nodes with an input; the other nodes are
                taken as x = 0 (their rows of ``x`` are ignored) and their input projection is
                not computed, which saves the matmul over internal nodes of a parse tree.
            input_index: optional (N,) integer rows of ``x`` instead: x is then a table (V, I)
                (word vectors, say) and node v's input is row ``input_index[v]``, none where it
                is negative (not with ``has_input``). Each distinct row is projected once per
                call, so a word that occurs many times in a batch costs one matmul row, forward
                and backward.
        """
        states, schedule = self._run(data, x, has_input, input_index)
        if schedule is None:
            return states
        return tuple(permute_rows(t, schedule.rank, schedule.order) for t in states)

    def _run(self, data, x: Tensor | None, has_input: Tensor | None,
             input_index: Tensor | None = None) -> tuple[State, Schedule | None]:
        """The states, in node order (and ``None``) or in the order of the schedule returned."""
        name = type(self).__name__
        if x is None:
            x = getattr(data, "x", None)
            if x is None:
                raise ValueError(f"{name}: pass x, or give data an 'x' attribute of shape "
                                 f"(N, {self.input_size})")
        num_nodes = data.num_nodes
        if input_index is not None:
            if has_input is not None:
                raise ValueError(f"{name}: pass has_input or input_index, not both (nodes with "
                                 f"a negative input_index have no input)")
            if (input_index.shape != (num_nodes,) or input_index.dtype.is_floating_point
                    or input_index.dtype == torch.bool):
                raise ValueError(f"{name}: input_index must be an integer tensor of shape "
                                 f"({num_nodes},), got {input_index.dtype} "
                                 f"{tuple(input_index.shape)}")
            if x.dim() != 2 or x.size(1) != self.input_size:
                raise ValueError(f"{name}: with input_index, x must be a table of shape (V, "
                                 f"{self.input_size}), got {tuple(x.shape)}")
            if input_index.numel() and int(input_index.max()) >= x.size(0):
                raise ValueError(f"{name}: input_index has row {int(input_index.max())}, but x "
                                 f"has {x.size(0)} rows")
            has_input = input_index >= 0
        elif x.dim() != 2 or x.size(0) != num_nodes or x.size(1) != self.input_size:
            raise ValueError(f"{name}: x must have shape ({num_nodes}, {self.input_size}) (one "
                             f"row per node), got {tuple(x.shape)}")
        schedule = schedule_of(data)
        if schedule.order.device != x.device:
            schedule = schedule.to(x.device)
        self._check_arity(schedule)
        if has_input is not None and (has_input.shape != (num_nodes,)
                                      or has_input.dtype != torch.bool):
            raise ValueError(f"{name}: has_input must be a bool tensor of shape ({num_nodes},), "
                             f"got {has_input.dtype} {tuple(has_input.shape)}")
        kernel = self.cell.level_kernel()
        if kernel is not None:
            return self._fused_states(kernel, x, has_input, input_index, schedule), schedule
        xw = self._project(self.cell.project, x, has_input, None, input_index)
        return propagate(self.cell, xw, schedule, projected=True), None

    @staticmethod
    def _project(project, x: Tensor, has_input: Tensor | None, ids: Tensor | None,
                 index: Tensor | None) -> Tensor:
        """``project`` of the inputs of the nodes ``ids`` (all nodes when ``None``), in that
        order. A node's input is row ``index[v]`` of ``x`` (row v without ``index``; each
        distinct row is projected once); a node without input gets the projection of zeros (the
        biases), and its matmul is skipped."""
        count = ids.numel() if ids is not None else (has_input.numel() if has_input is not None
                                                     else x.size(0))
        mask = has_input if has_input is None or ids is None else has_input.index_select(0, ids)
        if mask is not None and not bool(mask.any()):
            return project(x.new_zeros(1, x.size(1))).expand(count, -1)
        every = mask is None or bool(mask.all())
        which = None if every else mask.nonzero().flatten()   # positions among ``ids``
        nodes = ids if which is None else (which if ids is None else ids.index_select(0, which))
        if index is None:
            xw = project(x if nodes is None else x.index_select(0, nodes))
        else:
            rows = index if nodes is None else index.index_select(0, nodes)
            distinct, inverse = torch.unique(rows, return_inverse=True)
            xw = project(x.index_select(0, distinct)).index_select(0, inverse)
        if every:
            return xw
        base = project(x.new_zeros(1, x.size(1))).expand(count, -1)
        return base.index_copy(0, which, xw)

    def _fused_states(self, kernel: LevelKernel, x: Tensor, has_input: Tensor | None,
                      input_index: Tensor | None, schedule: Schedule) -> State:
        """The cell's fused level loop (:meth:`~graphrnn.cells.RecurrentCell.level_kernel`), in
        schedule order: the leaves are projected onto what a leaf reads only, and the other
        nodes' projection stays one shared row when none of them has an input."""
        first = schedule.level_sizes[0] if schedule.level_sizes else 0
        leaf_xw = self._project(kernel.project_sources, x, has_input, schedule.order[:first],
                                input_index)
        internal_xw = self._project(self.cell.project, x, has_input, schedule.order[first:],
                                    input_index)
        if internal_xw.size(0) > 1 and internal_xw.stride(0) == 0:   # no internal node has input
            internal_xw = internal_xw[:1]
        return kernel.run(leaf_xw, internal_xw, schedule)

    def forward(self, data, x: Tensor | None = None, has_input: Tensor | None = None,
                input_index: Tensor | None = None):
        """Run the cell over the trees of ``data`` (see :meth:`states` for the arguments).

        Returns:
            ``(output, h_n)`` with output (N, H) every node's h and h_n (R, H) the roots' h; for
            an LSTM ``(output, (h_n, c_n))``.
        """
        states, schedule = self._run(data, x, has_input, input_index)
        roots = tree_roots(data.edge_index.to(states[0].device), data.num_nodes)
        output = states[0]
        if schedule is not None:       # schedule order: only h is reordered in full
            roots = schedule.rank.index_select(0, roots)
            output = permute_rows(output, schedule.rank, schedule.order)
        final = tuple(s.index_select(0, roots) for s in states)
        return output, (final[0] if len(final) == 1 else final)

    def extra_repr(self) -> str:
        return ""


class TreeLSTM(TreeRNNBase):
    r"""Tree-LSTM over a batch of trees (Tai, Socher & Manning, ACL 2015).

    ``variant="child_sum"`` sums the children (any number, order ignored;
    :class:`~graphrnn.cells.tree_lstm.ChildSumTreeLSTMCell`, suited to dependency trees);
    ``variant="nary"`` gives each of at most ``arity`` ordered children its own weights
    (:class:`~graphrnn.cells.tree_lstm.NaryTreeLSTMCell`, suited to binarised constituency trees).
    Both have one forget gate per child, with the :math:`W^{(f)} x_j` term.

    Args:
        input_size: I. hidden_size: H.
        variant: ``"child_sum"`` (default) or ``"nary"``.
        arity: N for ``"nary"``. Default: 2.
        bias: default ``True``.

    Shapes: ``forward(data, x)`` with x (N, I) -> ``output`` (N, H), ``(h_n, c_n)`` (R, H) for the
    R roots. ``states(data, x)`` -> ``(h, c)`` of every node.

    Example::

        >>> from nltk import Tree
        >>> from graphrnn.structures import tree_graph
        >>> data = tree_graph(Tree.fromstring("(S (NP I) (VP (V saw) (NP her)))"))
        >>> output, (h_n, c_n) = TreeLSTM(8, 16, variant="nary")(data, torch.randn(5, 8))
        >>> output.shape, h_n.shape
        (torch.Size([5, 16]), torch.Size([1, 16]))
    """

    def __init__(self, input_size: int, hidden_size: int, variant: str = "child_sum",
                 arity: int = 2, bias: bool = True):
        if variant == "child_sum":
            cell: TreeCell = ChildSumTreeLSTMCell(input_size, hidden_size, bias)
        elif variant == "nary":
            cell = NaryTreeLSTMCell(input_size, hidden_size, arity, bias)
        else:
            raise ValueError(f"TreeLSTM: variant must be one of {TREE_LSTM_VARIANTS}, got "
                             f"{variant!r}")
        super().__init__(cell)
        self.variant, self.arity = variant, arity

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.variant != "child_sum":
            s += f", variant={self.variant!r}, arity={self.arity}"
        return s + (", bias=False" if not self.cell.bias else "")


class TreeGRU(TreeRNNBase):
    """Child-sum Tree-GRU over a batch of trees (:class:`~graphrnn.cells.tree.TreeGRUCell`).

    Args:
        input_size: I. hidden_size: H. bias: default ``True``.

    Shapes: ``forward(data, x)`` with x (N, I) -> ``output`` (N, H), ``h_n`` (R, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__(TreeGRUCell(input_size, hidden_size, bias))

    def extra_repr(self) -> str:
        return self.cell.extra_repr()


class RecursiveNet(TreeRNNBase):
    r"""Recursive neural network (Socher et al. 2011, 2013):
    :math:`h_j = f(W_{ih} x_j + b_{ih} + W_{hh} [h_{j1}; \dots; h_{jN}] + b_{hh})` over every tree
    of a batch (:class:`~graphrnn.cells.tree.RecursiveNetCell`).

    Args:
        input_size: I. hidden_size: H.
        arity: N, the most children a node may have. Default: 2.
        bias: default ``True``. nonlinearity: ``"tanh"`` (default) or ``"relu"``.

    Shapes: ``forward(data, x)`` with x (N, I) -> ``output`` (N, H), ``h_n`` (R, H).
    """

    def __init__(self, input_size: int, hidden_size: int, arity: int = 2, bias: bool = True,
                 nonlinearity: str = "tanh"):
        super().__init__(RecursiveNetCell(input_size, hidden_size, arity, bias, nonlinearity))

    def extra_repr(self) -> str:
        return self.cell.extra_repr()


__all__ = ["TreeLSTM", "TreeGRU", "RecursiveNet", "TreeRNNBase", "tree_roots"]
