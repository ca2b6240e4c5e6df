"""``torch.nn``'s cells read as graphrnn cells, so that one set of step functions serves both.

A user may hand a module ``torch.nn.RNNCell``, ``GRUCell`` or ``LSTMCell`` where graphrnn runs a
cell (a graph-network update, say). :func:`as_cell` recognises it once, when it is handed over,
and returns a :class:`TorchCell`: the same parameters, read from the module at every call (so
``.to()``, ``load_state_dict`` and reassigned parameters stay visible), run by the step functions
of :mod:`graphrnn.cells` (``srn_step``, ``gru_step``, ``lstm_step``). The numbers are
``torch.nn``'s up to rounding; the state dict stays the module's own.
"""
from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from .base import RecurrentCell, State
from .gru import gru_input, gru_project, gru_step
from .lstm import lstm_input, lstm_project, lstm_step
from .srn import srn_input, srn_project, srn_step


class _Weights:
    """The module's attributes under the names the step functions read, plus the options a
    ``torch.nn`` cell does not have (it is always the standard variant)."""

    def __init__(self, module: nn.Module, **options):
        self.__dict__.update(options)
        self.__dict__["_module"] = module

    def __getattr__(self, name: str):
        if name == "_module":          # not set yet (copy, unpickle): no recursion
            raise AttributeError(name)
        return getattr(self._module, name)


class TorchCell:
    """A ``torch.nn`` cell with the graphrnn cell interface used by the drivers and graph
    updates: ``state_sizes``, ``project``, ``step``, ``input_linear``, ``initial_state``.

    Args:
        module: the ``torch.nn`` cell (its parameters are used, not copied).
        project, step, linear: the graphrnn cell functions of its kind.
        num_states: state components, 1 (h) or 2 (h, c).
        **options: attributes the step functions read that the module lacks.
    """

    def __init__(self, module: nn.Module, project: Callable, step: Callable, linear: Callable,
                 num_states: int, **options):
        self.module, self._project, self._step, self._linear = module, project, step, linear
        self.num_states = num_states
        self.weights = _Weights(module, **options)

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.module.hidden_size,) * self.num_states

    def project(self, x: Tensor) -> Tensor:
        return self._project(self.weights, x)

    def step(self, xw: Tensor, state: State) -> State:
        return self._step(self.weights, xw, state)

    def input_linear(self) -> tuple[Tensor, Tensor | None]:
        return self._linear(self.weights)

    def initial_state(self, n: int, like: Tensor) -> State:
        return tuple(like.new_zeros(n, size) for size in self.state_sizes)

    def __repr__(self) -> str:
        return f"TorchCell({self.module!r})"


def as_cell(module) -> RecurrentCell | TorchCell | None:
    """``module`` as a cell: a graphrnn :class:`~graphrnn.cells.RecurrentCell` as it is, a
    ``torch.nn.RNNCell``/``GRUCell``/``LSTMCell`` as a :class:`TorchCell`, anything else
    ``None``. Called once when a module is handed over, not per step."""
    if isinstance(module, RecurrentCell):
        return module
    if isinstance(module, nn.GRUCell):
        return TorchCell(module, gru_project, gru_step, gru_input, 1, reset_after=True)
    if isinstance(module, nn.LSTMCell):
        return TorchCell(module, lstm_project, lstm_step, lstm_input, 2, num_gates=4,
                         forget_gate=True, coupled=False, peephole=False, weight_hr=None,
                         weight_ci=None, weight_cf=None, weight_co=None)
    if isinstance(module, nn.RNNCell):   # its own ``nonlinearity`` is read from the module
        return TorchCell(module, srn_project, srn_step, srn_input, 1)
    return None


__all__ = ["as_cell", "TorchCell"]
