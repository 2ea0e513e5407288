"""A minimal micrograd-style scalar engine on Python floats, the W5 baseline.

Each Value holds a float, its gradient, its parents and a closure that pushes the
gradient to them; backward walks a topological order (built without recursion).
"""

from __future__ import annotations

import math


class Value:
    __slots__ = ("data", "grad", "_prev", "_backward")

    def __init__(self, data: float, prev: tuple = ()) -> None:
        self.data = data
        self.grad = 0.0
        self._prev = prev
        self._backward = None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def push():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = push
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def push():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = push
        return out

    __rmul__ = __mul__

    def __sub__(self, other):
        return self + (-other)

    def __neg__(self):
        return self * -1.0

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def push():
            self.grad += (1 - t * t) * out.grad
        out._backward = push
        return out

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
                continue
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((p, False) for p in v._prev)
        self.grad = 1.0
        for v in reversed(order):
            if v._backward is not None:
                v._backward()
