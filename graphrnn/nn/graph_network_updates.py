"""How a :class:`~graphrnn.nn.GraphNetwork` applies one update function, chosen once when the
function is set (:func:`update_for`), never per call.

An update reads a list of inputs ``(t, idx)``: the row-wise input is ``t[idx]`` (``t`` when
``idx`` is None; a tuple ``idx`` means successive gathers). Three kinds:

* a recurrent cell (:func:`graphrnn.cells.as_cell`: a graphrnn cell, or ``torch.nn.RNNCell``,
  ``GRUCell``, ``LSTMCell``): the field's previous value is the state, the inputs are the cell's
  input, and the step is the cell's own (:mod:`graphrnn.cells`);
* a function whose first layer is an affine map ``x @ weight.T + bias`` (:func:`first_linear`:
  an ``nn.Linear`` or any module that looks like one, or an ``nn.Sequential``-like container
  starting with one): that layer can be split by input;
* anything else callable: called on the concatenation of the inputs.

Splitting: ``cat([t[idx] ...]) @ W.T + b`` is computed as ``sum_k (t_k @ W_k.T)[idx_k] + b`` with
``W_k`` the column block of input k, so node and global features are projected on their own N or
B rows *before* they are gathered onto E edges, and no concatenation is built.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..cells import as_cell
from ..kernels.products import linear

Inputs = list[tuple[Tensor, object | None]]


def split_projection(inputs: Inputs, widths: list[int], weight: Tensor,
                     bias: Tensor | None) -> Tensor:
    """``cat([t[idx] for t, idx in inputs]) @ weight.T + bias`` without building the
    concatenation or gathering the raw features."""
    # Project every input on its own rows (N or B of them for gathered inputs, not E), then gather.
    # Inputs that end in the same gather (x[sender] and u[batch[sender]]) are summed on the N rows
    # first, so each edge gathers one H-wide row per index instead of one per input. In-place adds
    # are safe: no op here saves its output for backward.
    groups: dict[int, tuple[Tensor, Tensor]] = {}
    out = None
    start = 0
    for (t, idx), w in zip(inputs, widths):
        block = weight[:, start:start + w]
        start += w
        if idx is None:
            if out is None:                                           # [rows, H]
                out = linear(t, block, bias)
            else:
                out = out.add_(linear(t, block))
            continue
        p = linear(t, block)                                          # [rows of t, H]
        *inner, last = idx if isinstance(idx, tuple) else (idx,)
        for i in inner:
            p = p.index_select(0, i)
        if id(last) in groups:
            groups[id(last)] = (last, groups[id(last)][1] + p)
        else:
            groups[id(last)] = (last, p)
    for last, p in groups.values():
        g = p.index_select(0, last)                                   # [rows, H]
        out = g if out is None else out.add_(g)
    if bias is not None and all(i is not None for _, i in inputs):
        out = out.add_(bias)
    return out


def gather(t: Tensor, idx) -> Tensor:
    """``t[idx]``; a tuple ``idx`` means successive gathers ``t[idx[0]][idx[1]]...``."""
    if idx is None:
        return t
    for i in idx if isinstance(idx, tuple) else (idx,):
        t = t.index_select(0, i)
    return t


def concat(inputs: Inputs) -> Tensor:
    tensors = [gather(t, i) for t, i in inputs]
    return tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim=-1)


def _check_width(model, in_features: int, widths: list[int]) -> None:
    if in_features != sum(widths):
        raise ValueError(f"{type(model).__name__} takes {in_features} input features, but the "
                         f"enabled inputs have {' + '.join(map(str, widths))} = {sum(widths)}")


class FunctionUpdate:
    """An MLP or any callable: ``model(concat(inputs))``; with ``head`` (its first Linear) the
    head is split by input and the rest of the ``nn.Sequential`` follows."""

    recurrent = False
    has_memory = False

    def __init__(self, model, head: nn.Module | None):
        self.model, self.head = model, head
        # the layers after the head, in call order (a container's other elements)
        self.rest = [] if head is None or head is model else list(model)[1:]

    def __call__(self, inputs: Inputs, widths: list[int], split: bool, prev: Tensor | None,
                 memory: Tensor | None, name: str) -> tuple[Tensor, None]:
        if not inputs:
            raise ValueError(f"the {name} update has no enabled input")
        if not split or self.head is None:
            return self.model(concat(inputs)), None
        weight = self.head.weight                      # read per call: .to() may have moved it
        _check_width(self.model, weight.size(1), widths)
        out = split_projection(inputs, widths, weight, getattr(self.head, "bias", None))
        for layer in self.rest:
            out = layer(out)
        return out, None


class CellUpdate:
    """A recurrent cell: the field's previous value is its state (a second component, the
    memory of an LSTM cell, is taken and returned; zeros when ``None``), the inputs are its
    input. With ``split`` the cell's input projection is split by input."""

    recurrent = True

    def __init__(self, model, cell):
        self.model, self.cell = model, cell
        self.has_memory = len(cell.state_sizes) > 1
        try:
            cell.input_linear()
            self.splittable = True
        except NotImplementedError:               # a cell whose projection is not one affine map
            self.splittable = False

    def __call__(self, inputs: Inputs, widths: list[int], split: bool, prev: Tensor | None,
                 memory: Tensor | None, name: str) -> tuple[Tensor, Tensor | None]:
        if prev is None:
            raise ValueError(f"the {name} update is a recurrent cell, but the graph has no {name} "
                             "features to use as its state")
        if not inputs:
            raise ValueError(f"the {name} update is a recurrent cell, but no input other than its "
                             "own state is enabled")
        state: tuple[Tensor, ...] = (prev,)
        if self.has_memory:
            state += (memory if memory is not None
                      else prev.new_zeros(prev.size(0), self.cell.state_sizes[1]),)
        if split and self.splittable:
            weight, bias = self.cell.input_linear()
            _check_width(self.model, weight.size(1), widths)
            xw = split_projection(inputs, widths, weight, bias)
        else:
            xw = self.cell.project(concat(inputs))
        out = self.cell.step(xw, state)
        return out[0], (out[1] if self.has_memory else None)


def _is_affine(layer) -> bool:
    """Whether ``layer`` declares itself an affine map ``x @ weight.T + bias`` the way
    ``nn.Linear`` does: a 2-D ``weight`` (out, in) whose shape its ``in_features`` and
    ``out_features`` repeat, and a ``bias`` that is ``None`` (or absent) or (out,).

    Asked of what a layer exposes, never of its class, so ``nn.Linear`` and its subclasses, an
    initialised ``nn.LazyLinear`` and a user's own Linear-like layer all pass; a 2-D ``weight``
    alone is not enough (``nn.Embedding`` has one and is a lookup, not a product).
    """
    weight = getattr(layer, "weight", None)
    if not isinstance(weight, Tensor):
        return False
    try:
        if weight.dim() != 2:
            return False
        out_features, in_features = weight.shape
    except ValueError:                                  # an uninitialised lazy parameter
        return False
    if (getattr(layer, "in_features", None) != in_features
            or getattr(layer, "out_features", None) != out_features):
        return False
    bias = getattr(layer, "bias", None)
    return bias is None or (isinstance(bias, Tensor) and tuple(bias.shape) == (out_features,))


def first_linear(model) -> nn.Module | None:
    """The layer of ``model`` that a :class:`~graphrnn.nn.GraphNetwork` splits by input, or
    ``None`` (then ``model`` is called on the concatenated inputs).

    That is ``model`` itself when it is Linear-like (:func:`_is_affine`), or the first element of
    a container that is indexable (``len(model)``, ``model[0]``) and iterable in the order it
    calls its elements, as ``nn.Sequential`` is, when that element is Linear-like. Plain torch
    layers cannot offer their head themselves, so this is asked once per model, by what the
    model exposes (duck typing), never by its class. Nested containers are not searched.
    """
    if _is_affine(model):
        return model
    if not (callable(model) and hasattr(model, "__len__") and hasattr(model, "__getitem__")
            and hasattr(model, "__iter__")):
        return None
    try:
        first = model[0] if len(model) > 0 else None
    except (KeyError, IndexError, TypeError):           # e.g. a dict-like container
        return None
    return first if first is not None and _is_affine(first) else None


def update_for(model) -> FunctionUpdate | CellUpdate | None:
    """The way to apply ``model`` (module docstring), or ``None`` for no update."""
    if model is None:
        return None
    cell = as_cell(model)
    if cell is not None:
        return CellUpdate(model, cell)
    return FunctionUpdate(model, first_linear(model))


__all__ = ["update_for", "first_linear", "CellUpdate", "FunctionUpdate", "split_projection",
           "gather", "concat"]
