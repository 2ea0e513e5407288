"""How an op is defined: its forward and its derivative, once, side by side.

Derivative formulas are written against a *formula namespace* ``ns`` whose
functions have the same names for raw arrays and for Tensors (``ns.mul``,
``ns.cos``, ``ns.sum_to``, ...). A plain backward runs them on arrays (fast,
no graph); ``create_graph=True`` runs the same formulas on Tensors, so the
backward pass is recorded and can be differentiated again, to any order.

``unary`` and ``binary`` turn one table-like entry into the public function,
the Tensor method, the in-place variant and the graph node (named as torch
names it). Ops that need more (reductions, views) subclass ``Node`` directly
and call ``record``. A derivative's parameter names say which values it needs
(``self``, ``other``, ``result``): only those are saved, and only when the
input they differentiate requires grad.
"""

from __future__ import annotations

import builtins
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd import engine as _engine
from ..autograd.anomaly import anomaly_state as _anomaly
from ..autograd.anomaly import on_first_enable as _anomaly_on_first_enable
from ..autograd.forward_ad import (
    TangentEdge,
    flush,
    has_tangent,
    is_dual,
    set_tangent,
    tangent_of,
)
from ..autograd.forward_ad import state as _fw
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import (
    DETACHED_IN_PLACE,
    InvalidViewNode,
    LiveViews,
    Node,
    SavedResult,
    new_node,
    short_node_name,
)
from ..autograd.saved_hooks import pack_saved_values, saved_hooks_active
from ..tensor import Tensor, tensor_method
from .overlap import check_no_partial_overlap

__all__ = ["Node", "Tensor", "ns_array", "ns_tensor", "formula", "unary", "binary", "record",
           "needs_grad", "edge", "as_tensor_arg", "inplace", "mark_view", "camel",
           "broadcast_error", "wrap_dim", "wrap_dims", "Formulas", "save_values"]

_make = Tensor._make
_SCALARS = (builtins.int, builtins.float, builtins.bool, builtins.complex)
# What Python's operators on a Tensor accept besides a Tensor (others get NotImplemented).
OPERANDS = (Tensor, builtins.bool, builtins.int, builtins.float, builtins.complex, np.generic,
            np.ndarray)


def camel(op_name: str) -> str:
    """``logical_and`` -> ``LogicalAnd`` (torch's node-name rule)."""
    return "".join(p.title() for p in op_name.split("_"))


# ---------------------------------------------------------------------------------------
# Formula namespaces
# ---------------------------------------------------------------------------------------


class Formulas:
    """The namespace derivative formulas are written against.

    Two instances exist: ``ns_array`` (NumPy arrays, no graph) and ``ns_tensor``
    (Tensors, recorded). Each op registers its function in both under the same
    name; the composites below are written once, in terms of those.
    """

    def __init__(self, graph: bool, owns_grad: bool = False) -> None:
        self.graph = graph
        # Set on the array namespace the engine passes when it alone holds the incoming
        # gradient: ``mul_grad`` may then write into it instead of allocating.
        self.owns_grad = owns_grad
        self.plain = self

    def mul_grad(self, g: Any, x: Any) -> Any:
        """``g * x`` for the incoming gradient ``g``; only as a formula's last use of ``g``
        (it may be written into ``g`` when the engine owns it). Where it may not write,
        ``formula("mul", ...)`` replaces this with ``mul`` itself (no extra call)."""
        if self.owns_grad and _product_fits(g, x):
            return np.multiply(g, x, out=g)
        return self.mul(g, x)

    def sum_to(self, g: Any, shape: tuple) -> Any:
        """Undo broadcasting: sum ``g`` down to ``shape``."""
        gshape = tuple(g.shape)
        if gshape == tuple(shape):
            return g
        if not shape and self.graph:
            return self.sum(g)          # torch's sum_to: a full sum, recorded as one
        lead = len(gshape) - len(shape)
        dims = tuple(range(lead)) + tuple(
            i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
        if not self.graph and len(dims) == lead and lead and shape:
            # Only leading dims: the sum without keepdim has the shape already (the same
            # reduction as torch's keepdim sum and view, one array and call fewer).
            return _add_reduce(g, dims)
        if dims:
            g = self.sum(g, dims, True)
        # torch views only to drop leading dims; otherwise the keepdim sum is the result.
        return self.reshape(g, tuple(shape)) if lead or not dims else g

    def np_dtype(self, g: Any) -> np.dtype:
        return g._data.dtype if self.graph else g.dtype

    def zeros(self, shape: tuple, dtype: np.dtype) -> Any:
        z = np.zeros(shape, dtype)
        return _make(z) if self.graph else z

    def constant(self, array: np.ndarray) -> Any:
        """A constant (no gradient) in this namespace's currency."""
        return _make(array) if self.graph else array

    def unwrap(self, g: Any) -> np.ndarray:
        return g._data if self.graph else g


_add_reduce = np.add.reduce


def _product_fits(g: np.ndarray, x: Any) -> bool:
    """Whether ``g * x`` has ``g``'s dtype and shape (so it can be written into ``g``)."""
    if x.__class__ is builtins.float:
        return g.dtype.kind in "fc"
    return x.__class__ is np.ndarray and (x.shape == g.shape or x.ndim == 0) and (
        x.dtype == g.dtype or x.dtype == np.bool_)


ns_array = Formulas(graph=False)
ns_array_owned = Formulas(graph=False, owns_grad=True)
ns_array_owned.plain = ns_array
ns_tensor = Formulas(graph=True)
_engine.ARRAY_NS = ns_array
_engine.ARRAY_NS_OWNED = ns_array_owned
_engine.TENSOR_NS = ns_tensor


def formula(name: str, array_fn: Callable, tensor_fn: Callable,
            owned_fn: Callable | None = None) -> None:
    """Make ``ns.<name>`` available to derivative formulas in both currencies.
    ``owned_fn`` (optional) replaces ``array_fn`` where the engine owns the incoming
    gradient: it may write into its first argument, as ``ns.mul_grad`` does."""
    setattr(ns_array, name, array_fn)
    setattr(ns_array_owned, name, owned_fn or array_fn)
    setattr(ns_tensor, name, tensor_fn)
    if name == "mul":
        ns_array.mul_grad, ns_tensor.mul_grad = array_fn, tensor_fn


# ---------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------


def edge(t: Any) -> tuple:
    """The (node, output_nr) a gradient for ``t`` flows into; (None, 0) for constants.
    While a dual level is open, a dual input's edge is a TangentEdge (see forward_ad)."""
    if isinstance(t, Tensor):
        if _fw.active and is_dual(t):
            return (TangentEdge(tangent_of(t), t._edge()), 0)
        if t._grad_fn is not None:
            return (t._grad_fn, t._output_nr)
        if t._requires_grad:
            return (t._accumulator(), 0)
    return (None, 0)


def needs_grad(*inputs: Any) -> bool:
    """Whether an op on these inputs must be recorded (for a gradient or a tangent)."""
    if _grad_state.grad_enabled:
        for t in inputs:
            if isinstance(t, Tensor) and t._requires_grad:
                return True
    return _fw.active and has_tangent(inputs)


def _check_saveable(t: Tensor) -> None:
    if t._inference:
        raise RuntimeError(
            "Inference tensors cannot be saved for backward. Please do not use Tensors created "
            "in inference mode in computation tracked by autograd. To work around this, you can "
            "make a clone to get a normal tensor and use it in autograd, or use "
            "`torch.no_grad()` instead of `torch.inference_mode()`.")


def save_values(node: Node, values: tuple) -> None:
    """Save inputs (Tensors, version-checked later), SavedResults and plain values."""
    versions = []
    for v in values:
        if isinstance(v, Tensor):
            if v._inference:
                _check_saveable(v)
            # A tensor without a version counter yet is at version 0 (the counter, made
            # on first use, starts there): saving it makes none.
            vc = v._vc
            versions.append(0 if vc is None else vc.value)
        elif type(v) is SavedResult:
            versions.append(v.counter.value)
        else:
            versions.append(None)
    node._saved = values
    node._versions = tuple(versions)
    if saved_hooks_active:
        pack_saved_values(node)


# Callbacks fn(node, output) run for each recorded output: anomaly mode's (from the first
# time it is turned on; it then asks whether the mode is on), and viz tracing's
# or checkpoint debugging's while active. Empty until then, so the usual cost of these
# features to an op is one truth test.
record_observers: list = []


def _observe(node: Node, out: Tensor) -> None:
    for fn in record_observers:
        fn(node, out)


def record(node: Node, data: np.ndarray) -> Tensor:
    """Wrap ``data`` as the output of ``node`` (a node already holding its edges)."""
    out = _make(data, True, node)
    if _fw.active and not _fw.on_record(node, (out,)):
        return out
    if record_observers:
        _observe(node, out)
    return out


def _anomaly_observer(node: Node, out: Tensor) -> None:
    if _anomaly.enabled:
        _anomaly_record(node, out)


def _observe_anomaly_mode() -> None:
    # First of the observers: a forward NaN check raises before any other sees the node.
    record_observers.insert(0, _anomaly_observer)


_anomaly_on_first_enable.append(_observe_anomaly_mode)


def record_many(node: Node, arrays: list) -> list:
    """Outputs of a node with several outputs."""
    node.n_outputs = len(arrays)
    outs = [_make(a, True, node, i) for i, a in enumerate(arrays)]
    if _fw.active and not _fw.on_record(node, outs):
        return outs
    if record_observers:
        _observe(node, outs[0])
    return outs


def _anomaly_record(node: Node, out: Tensor) -> None:
    from ..autograd.anomaly import forward_stack
    from ..autograd.graph import user_frame_site
    node.metadata["traceback_"] = forward_stack()
    if _anomaly.check_forward:
        data = out._data
        if data.dtype.kind in "fc" and not np.isfinite(data).all():
            raise RuntimeError(
                f"Function '{node.name()}' produced non-finite values (nan or inf) in its "
                f"forward output, at {user_frame_site()}. "
                "detect_anomaly(check_forward=True) stops at the first such op.")


def as_tensor_arg(value: Any, name: str = "other", fn: str = "op") -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALARS) or isinstance(value, np.generic):
        return _make(np.asarray(value, dtype=_dt.result_np_dtype((), (value,))
                                if not isinstance(value, np.generic) else value.dtype))
    raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def broadcast_error(*shapes: tuple) -> RuntimeError:
    """torch's message for shapes that do not broadcast."""
    a, b = shapes[0], shapes[1]
    for i in range(1, max(len(a), len(b)) + 1):
        sa = a[-i] if i <= len(a) else 1
        sb = b[-i] if i <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            dim = max(len(a), len(b)) - i
            return RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                                f"({sb}) at non-singleton dimension {dim}")
    return RuntimeError(f"shapes {list(a)} and {list(b)} cannot be broadcast together")


def wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not isinstance(dim, (builtins.int, np.integer)) or isinstance(dim, builtins.bool):
        raise TypeError(f"dim must be an int, not {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return builtins.int(dim) % n


def wrap_dims(dim: Any, ndim: int) -> tuple | None:
    """None (all dims), an int, or a sequence of ints -> a sorted tuple of dims."""
    if dim is None:
        return None
    if isinstance(dim, (builtins.int, np.integer)):
        return (wrap_dim(dim, ndim),)
    dims = tuple(wrap_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return tuple(sorted(dims))


# ---------------------------------------------------------------------------------------
# Unary elementwise ops
# ---------------------------------------------------------------------------------------


class UnaryNode(Node):
    """A one-input elementwise op; ``formula(ns, grad, *saved)`` gives the input's grad."""

    __slots__ = ()
    formula: Callable
    consumes_grad = True

    def backward(self, ns: Formulas, grads: list) -> tuple:
        return (self.formula(ns, grads[0], *self.unpack(ns.graph)),)


# Backward of a unary node that saved nothing, only its input, or only its result: the one
# saved value is checked inline on the array path (the general ``unpack`` handles every
# other case, and raises its errors: freed, modified in place, detached in place).

def _backward_nothing_saved(self: UnaryNode, ns: Formulas, grads: list) -> tuple:
    return (self.formula(ns, grads[0]),)


def _backward_self_saved(self: UnaryNode, ns: Formulas, grads: list) -> tuple:
    saved = self._saved
    if saved and not ns.graph:
        item = saved[0]
        if item.__class__ is Tensor:
            vc = item._vc
            if (vc is not None and vc.value == self._versions[0]
                    and item._grad_acc is not DETACHED_IN_PLACE):
                return (self.formula(ns, grads[0], item._data),)
    return UnaryNode.backward(self, ns, grads)


def _backward_result_saved(self: UnaryNode, ns: Formulas, grads: list) -> tuple:
    saved = self._saved
    if saved and not ns.graph:
        item = saved[0]
        if item.__class__ is SavedResult and item.counter.value == self._versions[0]:
            return (self.formula(ns, grads[0], item.data),)
    return UnaryNode.backward(self, ns, grads)


def _float_input(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "biu":
        return a.astype(_dt.get_default_dtype().np)
    return a


def unary(forward: Callable, *, name: str | None = None, node: str | None = None,
          to_float: bool = True, method: bool = True, inplace_variant: bool = True,
          differentiable: bool = True, keep_int: bool = False) -> Callable:
    """Define a one-input elementwise op from its NumPy forward and its derivative.

    The decorated function is the derivative: ``(ns, grad, <saved>) -> grad_input``
    where ``<saved>`` names any of ``self`` (the input) and ``result`` (the output).
    ``to_float`` promotes integer inputs to the default float dtype, as torch's
    floating ops do.
    """

    def define(derivative: Callable) -> Callable:
        op_name = name or derivative.__name__
        wanted = [p for p in inspect.signature(derivative).parameters][2:]
        saves_self = "self" in wanted
        saves_result = "result" in wanted
        only_self, only_result = wanted == ["self"], wanted == ["result"]
        node_cls = type(node or camel(op_name) + "Backward0", (UnaryNode,),
                        {"__slots__": (), "formula": staticmethod(derivative),
                         "saved_names": tuple(wanted), "__module__": derivative.__module__,
                         "backward": (_backward_nothing_saved if not wanted
                                      else _backward_self_saved if only_self
                                      else _backward_result_saved if only_result
                                      else UnaryNode.backward)})

        def op(input: Tensor) -> Tensor:
            try:
                a = input._data
            except AttributeError:
                raise TypeError(f"{op_name}(): argument 'input' (position 1) must be Tensor, "
                                f"not {type(input).__name__}") from None
            if to_float and a.dtype.kind in "biu":
                a = _float_input(a)
            out = forward(a)
            if not (differentiable and ((input._requires_grad and _grad_state.grad_enabled)
                                        or (_fw.active and is_dual(input)))):
                return _make(out)
            gf = input._grad_fn
            n = new_node(node_cls, (gf, input._output_nr) if gf is not None and not _fw.active
                         else edge(input))
            result = _make(out, True, n)
            if saves_self or saves_result:
                if input._inference:
                    _check_saveable(input)
                if only_result:
                    n._saved = (SavedResult(out, result._counter),)
                    n._versions = _VERSION_0
                elif only_self:
                    n._saved = (input,)
                    version = input._counter.value
                    n._versions = (version,) if version else _VERSION_0
                else:
                    n._saved = tuple(input if p == "self" else SavedResult(out, result._counter)
                                     for p in wanted)
                    n._versions = tuple(input._counter.value if p == "self" else 0
                                        for p in wanted)
                if saved_hooks_active:
                    pack_saved_values(n, result)
            if _fw.active and not _fw.on_record(n, (result,)):
                return result
            if record_observers:
                _observe(n, result)
            return result

        return _publish(op, op_name, "input", node_cls, forward, True, method,
                        inplace_variant)

    return define


def _publish(op: Callable, op_name: str, signature: str, node_cls: type, forward: Callable,
             register: bool, method: bool, inplace_variant: bool) -> Callable:
    """Name an op, register it for formulas, and attach it (and ``op_``) to Tensor."""
    op.__name__ = op.__qualname__ = op_name
    op.__doc__ = f"torch.{op_name}({signature}) -> Tensor"
    op.node_class = node_cls
    if register:
        formula(op_name, forward, op)
    if method:
        tensor_method(op_name)(op)
    if inplace_variant:
        def op_(self: Tensor, *args: Any) -> Tensor:
            return inplace(self, op, op_name + "_", *args)
        op_.__name__ = op_name + "_"
        tensor_method(op_name + "_")(op_)
    return op


# ---------------------------------------------------------------------------------------
# Binary elementwise ops (broadcasting, type promotion, scalars on either side)
# ---------------------------------------------------------------------------------------


class BinaryNode(Node):
    """A two-input broadcasting op. Gradients are summed back to each input's shape and
    cast to its dtype here, once, so formulas never undo broadcasting themselves."""

    __slots__ = ("shapes",)
    grad_self: Callable | None
    grad_other: Callable | None
    uses_self: tuple
    uses_other: tuple
    consumes_grad = True
    # Whether the self-formula reads a Python-number ``other`` only as the factor or
    # divisor of the gradient (mul, div), so it may be given as a cached 0-d operand.
    weak_other = False

    def backward(self, ns: Formulas, grads: list) -> tuple:
        g = grads[0]
        # [self, other, result] (None where not saved); nothing to check when none was
        # saved, or when only plain values were (a Python number ``other``).
        saved = self._saved
        if saved == ():
            vals = ()
        elif self._versions is _UNVERSIONED and saved is not None:
            vals = saved
            if (self.weak_other and saved[1].__class__ is _float and g.__class__ is ndarray
                    and g.dtype.kind in "fc"):
                b = _weak_scalars.get((saved[1], g.dtype))
                vals = (None, _weak_scalar(saved[1], g.dtype) if b is None else b, None)
        else:
            vals = self.unpack(ns.graph)
        edges = self._edges               # one edge when ``other`` is a number overload
        one_edge = len(edges) == 2
        o_node = None if one_edge else edges[2]
        a_shape, a_dtype, b_shape, b_dtype = self.shapes
        ga = gb = None
        if edges[0] is not None:
            if o_node is not None:
                ns = ns.plain             # both formulas read g: neither may write into it
            ga = self.call_self(ns, g, vals)
            if ga.__class__ not in _PLAIN_GRADS or ga.shape != a_shape or ga.dtype != a_dtype:
                ga = _fit(ns, ga, a_shape, a_dtype)
        if one_edge:
            return (ga,)
        if o_node is not None:
            gb = self.call_other(ns, g, vals)
            if gb.__class__ not in _PLAIN_GRADS or gb.shape != b_shape or gb.dtype != b_dtype:
                gb = _fit(ns, gb, b_shape, b_dtype)
        return (ga, gb)


def _formula_caller(fn: Callable | None, uses: tuple) -> Callable | None:
    """``call(ns, g, vals)``: ``fn(ns, g, *the saved values it names)``, made once per op
    (no per-call argument list for the usual one or two saved values)."""
    if fn is None:
        return None
    if not uses:
        return lambda ns, g, vals: fn(ns, g)
    if len(uses) == 1:
        i, = uses
        return lambda ns, g, vals: fn(ns, g, vals[i])
    if len(uses) == 2:
        i, j = uses
        return lambda ns, g, vals: fn(ns, g, vals[i], vals[j])
    return lambda ns, g, vals: fn(ns, g, *[vals[k] for k in uses])


def _fit(ns: Formulas, g: Any, shape: tuple, dtype: np.dtype) -> Any:
    if g.shape != shape:            # a tuple, or torch.Size (a tuple) under create_graph
        g = ns.sum_to(g, shape)
    if (g._data.dtype if ns.graph else g.dtype) != dtype:
        g = ns.cast(g, dtype)
    return g


_SAVED_INDEX = {"self": 0, "other": 1, "result": 2}
# The versions of saved values that are all plain (unchecked) values: one shared tuple.
_UNVERSIONED = (None, None, None)
ndarray = np.ndarray
# What a plain backward's formulas return: arrays, and NumPy's scalars from 0-d math
# (their shape and dtype are then compared; anything else, a Tensor, is fitted).
_PLAIN_GRADS = frozenset({ndarray, *(np.dtype(c).type for c in "efdgFDG")})
_VERSION_0 = (0,)
_NO_EDGE = (None, 0)
_float = builtins.float
_int = builtins.int


def _save_binary(n: BinaryNode, plan: tuple, input: Tensor, other: Any, other_is_tensor: bool,
                 out: np.ndarray, result: Tensor) -> None:
    """Save what a binary node's formulas read: [self, other, result] (None where not)."""
    save_self, save_other, save_result = plan
    if save_self and input._inference:
        _check_saveable(input)
    versioned_other = save_other and other_is_tensor
    if versioned_other and other._inference:
        _check_saveable(other)
    # Built as tuples directly: no temporary lists (fewer allocations the cyclic GC
    # counts, which dominates graphs of many small ops).
    n._saved = (input if save_self else None,
                other if save_other else None,
                SavedResult(out, result._counter) if save_result else None)
    if save_self or versioned_other or save_result:
        n._versions = (input._counter.value if save_self else None,
                       other._counter.value if versioned_other else None,
                       0 if save_result else None)
    else:                           # only a number: nothing to check when unpacking
        n._versions = _UNVERSIONED
    if saved_hooks_active:
        pack_saved_values(n, result)


_SAVE_OTHER = (False, True, False)


def _save_plan(*uses: tuple) -> tuple | None:
    """(save self, save other, save result) for the formulas that will run; None: nothing."""
    wanted = {name for names in uses for name in names}
    if not wanted:
        return None
    plan = ("self" in wanted, "other" in wanted, "result" in wanted)
    return _SAVE_OTHER if plan == _SAVE_OTHER else plan


def prepare_binary(input: Any, other: Any, op_name: str, promote_int_to_float: bool
                   ) -> tuple[np.ndarray, Any]:
    """Arrays for a binary op with torch's result dtype (Python scalars stay weak)."""
    a = input._data
    if isinstance(other, Tensor):
        b = other._data
        if a.dtype != b.dtype or (a.ndim == 0) != (b.ndim == 0):
            dt = _dt.result_np_dtype((a, b))
            if a.dtype != dt:
                a = a.astype(dt)
            if b.dtype != dt:
                b = b.astype(dt)
    elif isinstance(other, _SCALARS):
        b = other
        kind = a.dtype.kind
        if (isinstance(other, builtins.float) and kind in "biu") or (
                isinstance(other, builtins.complex) and kind != "c") or (
                isinstance(other, builtins.int) and not isinstance(other, builtins.bool)
                and kind == "b"):
            dt = _dt.result_np_dtype((a,), (other,))
            a = a.astype(dt)
        elif kind in "iu" and type(other) is builtins.int:
            b = _int_scalar_as(other, a.dtype)
    elif isinstance(other, np.generic):
        b = other
    else:
        raise TypeError(f"{op_name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    if promote_int_to_float and a.dtype.kind in "biu":
        f = _dt.get_default_dtype().np
        a = a.astype(f)
        b = b.astype(f) if isinstance(b, np.ndarray) else b
    return a, b


def _int_scalar_as(value: int, dtype: np.dtype) -> Any:
    """A Python int in an integer tensor's dtype, wrapping around as torch does
    (uint8 tensor + -3 adds 253) where NumPy would refuse it."""
    info = np.iinfo(dtype)
    if info.min <= value <= info.max:
        return value
    return np.array(value, dtype=np.int64).astype(dtype)[()]


# Python floats given to add/sub/mul/div with a floating tensor, as 0-d arrays of the
# tensor's dtype: NumPy casts a Python float operand to the array's dtype (NEP 50) on
# every call, which costs more than the arithmetic on a small array; a ready 0-d operand
# of that dtype gives the same bits. Keyed by (value, dtype); zeros (0.0 == -0.0 as keys)
# and values the cast makes infinite, zero or subnormal (the cast's overflow or underflow
# then answers to np.seterr on every call) are never cached.
_WEAK_SCALAR_UFUNCS = (np.add, np.subtract, np.multiply, np.true_divide)
_weak_scalars: dict = {}
_WEAK_SCALARS_MAX = 256


def _weak_scalar(value: float, dtype: np.dtype) -> Any:
    """``value`` as the 0-d operand NumPy would make of it against ``dtype``, or itself."""
    with np.errstate(all="ignore"):
        operand = np.array(value, dtype)
    if not np.finfo(dtype).tiny <= abs(operand.real) < math.inf:
        return value
    if len(_weak_scalars) >= _WEAK_SCALARS_MAX:
        _weak_scalars.clear()
    _weak_scalars[value, dtype] = operand
    return operand


def binary(op_name: str, forward: Callable, *, self: Callable | None = None,
           other: Callable | None = None, node: str | None = None, to_float: bool = False,
           method: bool = True, inplace_variant: bool = True, register: bool = True,
           tensors_only: bool = False, number_other: bool = False) -> Callable:
    """Define a broadcasting two-input op from its NumPy forward and each input's derivative.

    ``self``/``other`` are ``(ns, grad, <saved>) -> grad`` where ``<saved>`` names any of
    ``self``, ``other``, ``result``. A missing derivative makes the op non-differentiable
    in that input (an error if that input requires grad). ``to_float`` promotes integer
    results to the default float dtype (true division). ``tensors_only`` rejects Python
    numbers on either side, as torch's Tensor-only signatures (maximum, atan2, ...) do.
    ``number_other`` marks torch's Scalar overloads (``fmod(t, 2.0)``, ``t ** 2``): the
    number is no input of the node, which then has one edge.
    """
    grad_self, grad_other = self, other

    def params(fn: Callable | None) -> tuple:
        return tuple(inspect.signature(fn).parameters)[2:] if fn else ()

    uses_self, uses_other = params(grad_self), params(grad_other)
    node_cls = type(node or camel(op_name) + "Backward0", (BinaryNode,), {
        "__slots__": (), "grad_self": staticmethod(grad_self) if grad_self else None,
        "grad_other": staticmethod(grad_other) if grad_other else None,
        "uses_self": tuple(_SAVED_INDEX[p] for p in uses_self),
        "uses_other": tuple(_SAVED_INDEX[p] for p in uses_other),
        "call_self": staticmethod(_formula_caller(
            grad_self, tuple(_SAVED_INDEX[p] for p in uses_self))),
        "call_other": staticmethod(_formula_caller(
            grad_other, tuple(_SAVED_INDEX[p] for p in uses_other))),
        "saved_names": ("self", "other", "result"),
        "weak_other": forward in (np.multiply, np.true_divide),
        "__module__": (grad_self or grad_other or forward).__module__})
    differentiable = grad_self is not None or grad_other is not None
    # Which of (self, other, result) to save, indexed by s_req + 2 * o_req.
    save_plans = tuple(_save_plan(uses_self if s else (), uses_other if o else ())
                       for o in (False, True) for s in (False, True))

    missing_derivative = grad_self is None or grad_other is None
    weak_scalar_cache = forward in _WEAK_SCALAR_UFUNCS

    def make_op(giving_way: bool) -> Callable:
        """The op; with ``giving_way`` the operator form (``x * y``), which answers
        NotImplemented for operands it cannot take, so that Python raises its TypeError."""

        def op(input: Tensor, other: Any) -> Tensor:
            if tensors_only and isinstance(input, Tensor) and not isinstance(other, Tensor):
                raise _not_tensor(op_name, "other", 2, other)
            if not isinstance(input, Tensor):
                if (isinstance(other, Tensor) and isinstance(input, (*_SCALARS, np.generic))
                        and not tensors_only):
                    input = as_tensor_arg(input, "input", op_name)
                else:
                    raise TypeError(f"{op_name}(): argument 'input' (position 1) must be "
                                    f"Tensor, not {type(input).__name__}")
            a = input._data
            # Fast paths: a float scalar with a floating tensor, or two tensors of one dtype
            # and rank class, need no promotion (prepare_binary would change nothing).
            if other.__class__ is _float and a.dtype.kind in "fc":
                if weak_scalar_cache:
                    b = _weak_scalars.get((other, a.dtype))
                    if b is None:
                        b = _weak_scalar(other, a.dtype)
                else:
                    b = other
                other_is_tensor = False
            elif other.__class__ is _int and a.dtype.kind in "fc":
                b = other                   # prepare_binary would change nothing either
                other_is_tensor = False
            elif isinstance(other, Tensor):
                other_is_tensor = True
                b = other._data
                if b.dtype != a.dtype or (a.ndim == 0) != (b.ndim == 0) or (
                        to_float and a.dtype.kind in "biu"):
                    a, b = prepare_binary(input, other, op_name, to_float)
            else:
                if giving_way and not isinstance(other, OPERANDS):
                    return NotImplemented
                other_is_tensor = False
                a, b = prepare_binary(input, other, op_name, to_float)
            try:
                out = forward(a, b)
            except ValueError as e:
                if _broadcastable(np.shape(a), np.shape(b)):
                    raise RuntimeError(str(e)) from None
                raise broadcast_error(np.shape(a), np.shape(b)) from None
            if not differentiable:
                return _make(out)
            if _grad_state.grad_enabled:
                s_req = input._requires_grad
                o_req = other_is_tensor and other._requires_grad
            else:
                s_req = o_req = False
            fw = _fw.active
            if not (s_req or o_req):
                if not (fw and has_tangent((input, other))):
                    return _make(out)
            elif missing_derivative and (
                    (s_req and grad_self is None) or (o_req and grad_other is None)):
                which = "self" if s_req and grad_self is None else "other"
                raise RuntimeError(f"the derivative for '{op_name}' is not implemented for "
                                   f"'{which}'")
            if fw:                      # a dual input's derivative is wanted for its tangent
                s_req = s_req or is_dual(input)
                o_req = o_req or is_dual(other)
                s_edge = edge(input)
            else:
                gf = input._grad_fn
                s_edge = (gf, input._output_nr) if gf is not None else edge(input)
            if number_other:
                n = new_node(node_cls, s_edge)
            else:
                if fw:
                    o_edge = edge(other)
                elif o_req:
                    o_gf = other._grad_fn
                    o_edge = (o_gf, other._output_nr) if o_gf is not None else edge(other)
                else:
                    o_edge = _NO_EDGE
                n = new_node(node_cls, s_edge + o_edge)
            result = _make(out, True, n)
            if other_is_tensor:
                n.shapes = (a.shape, input._data.dtype, b.shape, other._data.dtype)
            else:
                n.shapes = (a.shape, input._data.dtype, (), None)
            plan = save_plans[s_req + 2 * o_req]
            if plan is _SAVE_OTHER and not other_is_tensor and not saved_hooks_active:
                n._saved = (None, other, None)     # a number: nothing to version-check
                n._versions = _UNVERSIONED
            elif plan is not None:
                _save_binary(n, plan, input, other, other_is_tensor, out, result)
            if fw and not _fw.on_record(n, (result,)):
                return result
            if record_observers:
                _observe(n, result)
            return result

        return op

    op = make_op(False)
    op.giving_way = make_op(True)
    if isinstance(forward, np.ufunc):
        op.write_into = _write_into(forward)
    published = _publish(op, op_name, "input, other", node_cls, forward, register,
                         method and not tensors_only, inplace_variant and not tensors_only)
    if tensors_only:
        _attach_tensor_only_methods(op, op_name, method, inplace_variant)
    return published


def _not_tensor(fn: str, name: str, position: int, value: Any) -> TypeError:
    return TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
                     f"{type(value).__name__}")


def _attach_tensor_only_methods(op: Callable, op_name: str, method: bool,
                                inplace_variant: bool) -> None:
    """Methods of an op taking only Tensors: ``other`` is argument 1 of the method."""
    def checked(name: str, fn: Callable) -> Callable:
        def method_fn(self: Tensor, other: Any) -> Tensor:
            if not isinstance(other, Tensor):
                raise _not_tensor(name, "other", 1, other)
            return fn(self, other)
        method_fn.__name__ = name
        return method_fn

    if method:
        tensor_method(op_name)(checked(op_name, op))
    if inplace_variant:
        tensor_method(op_name + "_")(checked(op_name + "_", lambda self, other: inplace(
            self, op, op_name + "_", other)))


def _write_into(ufunc: np.ufunc) -> Callable:
    """``self op= other`` straight into self's memory, for an untracked in-place op whose
    operands need no promotion; False leaves the case to the general path (and its
    errors)."""

    def write_into(self: Tensor, other: Any) -> bool:
        a = self._data
        if a.dtype.kind not in "fc" or not a.flags.writeable:
            return False
        if isinstance(other, Tensor):
            b = other._data
            if b.dtype != a.dtype or b.ndim > a.ndim or (
                    b.shape != a.shape and np.broadcast_shapes(a.shape, b.shape) != a.shape):
                return False
        elif other.__class__ is _float:
            b = other
        else:
            return False
        ufunc(a, b, out=a)          # NumPy buffers operands that overlap the output
        return True

    return write_into


# ---------------------------------------------------------------------------------------
# In-place ops and views
# ---------------------------------------------------------------------------------------

LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_INPLACE = ("a view of a leaf Variable that requires grad is being used in an "
                        "in-place operation.")


def check_inplace_allowed(self: Tensor) -> None:
    if _grad_state.grad_enabled:
        # torch's order: how the view was made, then leaf-ness.
        if self._view is not None and self._view[1]:
            raise RuntimeError(self._view[1])
        base = self._base
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError(VIEW_OF_LEAF_INPLACE)
        if self._requires_grad and self._grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
    if self._inference and not _grad_state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can "
            "make a clone to get a normal tensor before doing inplace update.See "
            "https://github.com/pytorch/rfcs/pull/17 for more details.")


def inplace(self: Tensor, op: Callable, op_name: str, *args: Any, **kwargs: Any) -> Tensor:
    """Run ``op(self, *args)`` and write its result into ``self``'s memory.

    The graph sees the out-of-place op applied to the old value of ``self``; ``self``
    then takes the op's node as its grad_fn (torch's "rebase"). If ``self`` is a view,
    its base gets a CopySlices node, so gradients flow into the base correctly.
    """
    if (len(args) == 1 and not (_grad_state.grad_enabled or _fw.active or kwargs
                                or self._inference)):
        # An optimizer's update (``p.sub_(g * lr)`` under no_grad): nothing to record, and
        # no overlap to check when neither operand is a view.
        other = args[0]
        write_into = getattr(op, "write_into", None)
        if write_into is not None and self._base is None and (
                not isinstance(other, Tensor) or other._base is None) and write_into(
                self, other):
            return _written_untracked(self, op_name)
    check_inplace_allowed(self)
    # Only an operand sharing self's base can overlap it (one attribute test per operand;
    # the memory check runs only for those).
    base = self._base
    for t in args:
        if isinstance(t, Tensor) and (t._base is self if base is None else (
                t is not self and (t is base or t._base is base))):
            check_no_partial_overlap(self._data, t._data)
    if _fw.active:
        flush()           # pending tangents read values this write is about to change
    tracked = needs_grad(self, *args, *kwargs.values())
    if not tracked:
        write_into = getattr(op, "write_into", None)
        if write_into is not None and not kwargs and len(args) == 1 and write_into(
                self, args[0]):
            return _written_untracked(self, op_name)
        prev = _grad_state.grad_enabled
        _grad_state.grad_enabled = False
        try:
            res = op(self, *args, **kwargs)
        finally:
            _grad_state.grad_enabled = prev
        _write(self, res._data, op_name)
        if self._counter.views:
            _regenerate_views(self._counter)
        return self
    # Under saved-tensor hooks pack sees ``old`` at once: give it the value from before the
    # write, not memory the write is about to change.
    old = _make(self._data.copy() if saved_hooks_active else self._data,
                self._requires_grad, self._grad_fn, self._output_nr)
    if _fw.active and is_dual(self):
        set_tangent(old, tangent_of(self))
    res = op(old, *args, **kwargs)
    node = res._grad_fn
    res_tangent = tangent_of(res) if _fw.active else None
    if node is not None and node._saved and any(v is old for v in node._saved):
        old._data = self._data.copy()          # the op needs the value from before the write
    _write(self, res._data, op_name)
    if node is not None and node._saved:
        _rebind_saved_result(node, res, self)
    if _fw.active:
        _fw.write_inplace(self, res_tangent)
    if node is None:
        # A non-differentiable op (logical_and_, ...) or one recorded only for its tangent:
        # torch bumps the version but leaves the tensor's history as it was.
        if self._counter.views:
            _regenerate_views(self._counter)
        return self
    if self._base is not None:
        _rebase_view(self, res)
    else:
        _set_history(self, res._grad_fn, res._output_nr)
        self._requires_grad = res._requires_grad or self._requires_grad
    if self._counter.views:
        _regenerate_views(self._counter, self)
    self._counter.last_node_name = type(node).__name__
    return self


def _set_history(t: Tensor, node: Node | None, output_nr: int) -> None:
    """Give ``t`` a new grad_fn after an in-place write; retain_grad() follows it."""
    if t._grad_fn is not None and t.retains_grad:
        del t._grad_fn._retain[t._output_nr]
        t._grad_fn = node
        t._output_nr = output_nr
        t.retain_grad()
    else:
        t._grad_fn = node
        t._output_nr = output_nr


def _write(self: Tensor, data: np.ndarray, op_name: str) -> None:
    dst = self._data
    if data.dtype != dst.dtype:
        src_dt, dst_dt = _dt.from_numpy_dtype(data.dtype), _dt.from_numpy_dtype(dst.dtype)
        if not _dt.can_cast(src_dt, dst_dt):
            raise RuntimeError(f"result type {src_dt.scalar_name} can't be cast to the desired "
                               f"output type {dst_dt.scalar_name}")
    if data.shape != dst.shape:
        if not _broadcastable(data.shape, dst.shape):
            raise broadcast_error(dst.shape, data.shape)
        full = np.broadcast_shapes(data.shape, dst.shape)
        if full != dst.shape:
            raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the "
                               f"broadcast shape {list(full)}")
    if not dst.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location. Please clone() the tensor before performing the "
            "operation.")
    np.copyto(dst, data, casting="unsafe")
    self._counter.bump(op_name)


def _broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _rebind_saved_result(node: Node, res: Tensor, self: Tensor) -> None:
    """A result saved by the op now lives in ``self``: follow its memory and counter."""
    saved = list(node._saved)
    versions = list(node._versions)
    for i, v in enumerate(saved):
        if type(v) is SavedResult and v.counter is res._counter:
            v.data = self._data
            v.counter = self._counter
            versions[i] = self._counter.value
    node._versions = tuple(versions)
    node._saved = tuple(saved)


_NO_GRAD_VIEW = ("A view was created in no_grad mode and {} with grad mode enabled. Given "
                 "that this use case is ambiguous and error-prone, it is forbidden. You can "
                 "clarify your code by moving both the view and the inplace either both inside "
                 "the no_grad block (if you don't want the inplace to be tracked) or both "
                 "outside (if you want the inplace to be tracked).")
NO_GRAD_VIEW_INPLACE = _NO_GRAD_VIEW.format("is being modified inplace")
NO_GRAD_VIEW_MODIFIED = _NO_GRAD_VIEW.format(
    "its base or another view of its base has been modified inplace")

# A view remembers its base and how to re-derive it from the base: ``replay(ns, x)``.
# ``_view`` = (replay, error_message_for_inplace_or_None).


def mark_view(out: Tensor, input: Tensor, replay: Callable | None,
              inplace_error: str | None = None) -> Tensor:
    """Make ``out`` (whose array is a NumPy view of ``input``'s) a view in torch's sense:
    same version counter, same base, and a way to replay the view from the base."""
    out._counter = input._counter
    out._inference = input._inference      # a view is an inference tensor iff its base is
    base = input._base if input._base is not None else input
    out._base = base
    if inplace_error is None and not _grad_state.grad_enabled and (
            input._requires_grad or base._requires_grad):
        inplace_error = NO_GRAD_VIEW_INPLACE
    if replay is not None and input._base is not None and input._view is not None:
        first = input._view[0]
        if first is None:
            chain = None
        else:
            def chain(ns: Formulas, x: Any, _a=first, _b=replay) -> Any:
                return _b(ns, _a(ns, x))
            # A view of unpack_dual's primal has no tangent either (see forward_ad).
            chain.primal_only = getattr(first, "primal_only", False)
    else:
        chain = replay
    out._view = (chain, inplace_error)
    # A no_grad view of a non-leaf is kept too: a later write makes its grad_fn raise.
    if out._grad_fn is not None or (inplace_error is NO_GRAD_VIEW_INPLACE
                                    and base._grad_fn is not None):
        views = out._counter.views
        if views is None:
            views = out._counter.views = LiveViews()
        views.add(out)
    return out


class CopySlices(Node):
    """The base of a view that was modified in place: the gradient of the written region
    goes to the new values, the rest to the base's old value."""

    __slots__ = ("replay", "mask")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def backward(self, ns: Formulas, grads: list) -> tuple:
        g = grads[0]
        g_base = ns.keep(g, self.mask)        # +0.0 where overwritten, as torch
        g_view = self.replay(ns, g)
        return (g_base, g_view)


class AsStridedBackward0(Node):
    """The grad_fn torch gives a view after its memory was modified in place: the view's
    gradient lands at the base positions the view covers (summed where they overlap).
    Those positions are found at the first backward, so that regenerating many views
    after each write costs nothing until they are used."""

    __slots__ = ("shape", "replay", "index")

    def backward(self, ns: Formulas, grads: list) -> tuple:
        if self.index is None:
            self.index = np.unravel_index(_base_positions(self.shape, self.replay), self.shape)
        return (ns.index_backward(grads[0], self.shape, self.index, False),)


def _base_positions(base_shape: tuple, replay: Callable) -> np.ndarray:
    """For each element of the view, its flat position in the base."""
    return np.asarray(replay(ns_array, np.arange(math.prod(base_shape)).reshape(base_shape)))


def _regenerate_view(view: Tensor, base: Tensor, replay: Callable) -> None:
    node = AsStridedBackward0((edge(base),))
    node.shape = base._data.shape
    node.replay = replay
    node.index = None
    _set_history(view, node, 0)
    view._requires_grad = True


MODIFIED_MULTI_VIEW = (
    "Output {} of {} is a view and its base or another view of its base has been modified "
    "inplace. This view is the output of a function that returns multiple views. Such "
    "functions do not allow the output views to be modified inplace. You should replace the "
    "inplace operation by an out-of-place one.")


def _written_untracked(self: Tensor, op_name: str) -> Tensor:
    """After an untracked write straight into ``self``: a version more, and its live
    views (a parameter's slices, say) take its history from now on, as after any write."""
    counter = self._counter
    counter.bump(op_name)
    if counter.views:
        _regenerate_views(counter)
    return self


def _regenerate_views(counter: Any, skip: Tensor | None = None) -> None:
    """The views sharing this memory still point at their base's old history: give them
    its current one (views of a detached alias included, as torch), or a grad_fn that
    raises torch's error for one of several views an op returned or a no_grad view."""
    for view in counter.views.alive():
        if view is skip or type(view._grad_fn) is InvalidViewNode:
            continue
        replay, view_error = view._view
        base = view._base
        if view_error is NO_GRAD_VIEW_INPLACE:
            _invalidate_view(view, base, NO_GRAD_VIEW_MODIFIED)
        elif replay is not None:
            _regenerate_view(view, base, replay)
        elif view_error:
            _invalidate_view(view, base, MODIFIED_MULTI_VIEW.format(
                view._output_nr, short_node_name(type(view._grad_fn).__name__)))


def _invalidate_view(view: Tensor, base: Tensor, message: str) -> None:
    node = InvalidViewNode((edge(base),))
    node.message = message
    _set_history(view, node, 0)
    view._requires_grad = True


def _rebase_view(view: Tensor, res: Tensor) -> None:
    base = view._base
    replay = view._view[0] if view._view else None
    if replay is None:
        raise RuntimeError("this view cannot be modified in place while it requires grad; "
                           "clone() it first.")
    positions = _base_positions(base._data.shape, replay)
    mask = np.ones(base._data.size, dtype=np.bool_)
    mask[positions.ravel()] = False
    node = CopySlices((base._edge(), res._edge()))
    node.replay = replay
    node.mask = mask.reshape(base._data.shape)
    _set_history(base, node, 0)
    base._requires_grad = True
    _regenerate_view(view, base, replay)
