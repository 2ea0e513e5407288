"""RNN, LSTM and GRU: multi-layer, batch_first, bidirectional, with torch's parameter names.

Each time step is composed from linear, sigmoid/tanh and elementwise ops, so gradients
(and higher-order gradients) come from those ops' own derivatives.
"""

from __future__ import annotations

import math
from typing import Any

from ...creation import empty, zeros
from ...ops.join import cat, stack
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNN", "LSTM", "GRU"]


class _RNNBase(Module):
    _gates: int
    mode: str

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        directions = 2 if bidirectional else 1
        gate_size = self._gates * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return tuple(getattr(self, n + suffix) if (self.bias or n.startswith("weight"))
                     else None for n in names)

    def _cell(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        raise NotImplementedError

    def _run(self, input: Tensor, states: list) -> tuple[Tensor, list]:
        """input (L, N, features); states[k] is the state tuple of layer/direction k."""
        directions = 2 if self.bidirectional else 1
        layer_input = input
        final = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                state = states[k]
                weights = self._weights(layer, direction)
                steps = range(layer_input.shape[0])
                if direction:
                    steps = reversed(steps)
                hs = {}
                for t in steps:
                    state = self._cell(layer_input[t], state, weights)
                    hs[t] = state[0]
                outputs.append(stack([hs[t] for t in range(layer_input.shape[0])], 0))
                final.append(state)
            layer_input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout)
        return layer_input, final

    def _initial(self, hx: Any, n: int, like: Tensor) -> list:
        raise NotImplementedError

    def forward(self, input: Tensor, hx: Any = None) -> tuple:
        unbatched = input.dim() == 2
        if unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if isinstance(hx, tuple) else \
                    hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        n = input.shape[1]
        states = self._initial(hx, n, input)
        out, final = self._run(input, states)
        if unbatched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        packed = tuple(stack([s[i] for s in final], 0) for i in range(len(final[0])))
        if unbatched:
            packed = tuple(p.squeeze(1) for p in packed)
        return out, (packed if len(packed) > 1 else packed[0])

    def _zeros(self, n: int, like: Tensor) -> Tensor:
        count = self.num_layers * (2 if self.bidirectional else 1)
        return zeros(count, n, self.hidden_size, dtype=like.dtype)


class RNN(_RNNBase):
    """torch.nn.RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)"""

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "nonlinearity" and "_parameters" not in self.__dict__:
            self.__dict__[name] = value       # set before Module.__init__ runs
            return
        super().__setattr__(name, value)

    def _initial(self, hx: Any, n: int, like: Tensor) -> list:
        h = self._zeros(n, like) if hx is None else hx
        return [(h[k],) for k in range(h.shape[0])]

    def _cell(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        w_ih, w_hh, b_ih, b_hh = weights
        pre = F.linear(x, w_ih, b_ih) + F.linear(state[0], w_hh, b_hh)
        return ((pre.tanh() if self.nonlinearity == "tanh" else pre.relu()),)


class LSTM(_RNNBase):
    """torch.nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)"""

    _gates = 4

    def _initial(self, hx: Any, n: int, like: Tensor) -> list:
        if hx is None:
            h = c = self._zeros(n, like)
        else:
            h, c = hx
        return [(h[k], c[k]) for k in range(h.shape[0])]

    def _cell(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        w_ih, w_hh, b_ih, b_hh = weights
        h, c = state
        gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
        H = self.hidden_size
        i, f = gates[:, :H].sigmoid(), gates[:, H:2 * H].sigmoid()
        g, o = gates[:, 2 * H:3 * H].tanh(), gates[:, 3 * H:].sigmoid()
        c = f * c + i * g
        return (o * c.tanh(), c)


class GRU(_RNNBase):
    """torch.nn.GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)"""

    _gates = 3

    def _initial(self, hx: Any, n: int, like: Tensor) -> list:
        h = self._zeros(n, like) if hx is None else hx
        return [(h[k],) for k in range(h.shape[0])]

    def _cell(self, x: Tensor, state: tuple, weights: tuple) -> tuple:
        w_ih, w_hh, b_ih, b_hh = weights
        h = state[0]
        gi = F.linear(x, w_ih, b_ih)
        gh = F.linear(h, w_hh, b_hh)
        H = self.hidden_size
        r = (gi[:, :H] + gh[:, :H]).sigmoid()
        z = (gi[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
        n = (gi[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
        return ((1 - z) * n + z * h,)
