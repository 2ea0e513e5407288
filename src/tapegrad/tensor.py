"""Tensor: a NumPy array plus autograd state (requires_grad, grad_fn, .grad, version).

No derivative math lives here. Methods that mirror an op (``x.sin()``,
``x + y``) are attached by the op's own module in ``tapegrad.ops`` through
``tensor_method``, so an op is defined in one place; what stays here is the
state every tensor has and the API about that state.
"""

from __future__ import annotations

import builtins
import copy
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import dtypes as _dt
from .autograd.grad_mode import state as _grad_state
from .autograd.graph import (
    DETACHED_IN_PLACE,
    AccumulateGrad,
    InvalidViewNode,
    RemovableHandle,
    VersionCounter,
)
from .devices import device

__all__ = ["Tensor", "Size", "tensor_method"]

NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


class Size(tuple):
    """torch.Size: a tuple that prints as ``torch.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


class Tensor:
    """A multi-dimensional array that can record the ops applied to it."""

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_grad", "_vc",
                 "_base", "_view", "_grad_acc", "_hooks", "_post_acc_hooks", "_inference",
                 "__weakref__")

    # -- construction ----------------------------------------------------------------
    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool = False, grad_fn: Any = None,
              output_nr: int = 0) -> Tensor:
        """Wrap an array without copying (the hot path of every op)."""
        if data.__class__ is not _ndarray:
            data = np.asarray(data)    # NumPy returns scalars, not 0-d arrays, from 0-d math
        t = _new(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._grad = None
        t._vc = None                # the VersionCounter, made when first asked for
        t._base = None
        t._view = None
        t._grad_acc = None
        t._hooks = None
        t._post_acc_hooks = None
        # Ops record only while grad mode is on, which it never is in inference mode: an
        # output that requires grad is no inference tensor (and the thread-local read,
        # several times dearer than a plain attribute, is skipped on the recording path).
        t._inference = False if requires_grad else _grad_state.inference
        return t

    def __new__(cls, *args: Any, **kwargs: Any) -> Tensor:
        # torch.Tensor(data) / torch.Tensor(*sizes): the legacy constructor, always float.
        if len(args) == 1 and not isinstance(args[0], int):
            data = np.array(_to_nested(args[0]), dtype=_dt.get_default_dtype().np)
        else:
            data = np.zeros(tuple(args), dtype=_dt.get_default_dtype().np)
        t = cls._make(data)
        if cls is not Tensor:
            t = _retype(t, cls)
        return t

    # -- autograd state --------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            if value:
                raise RuntimeError("you can only change requires_grad flags of leaf variables.")
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients")
        self._check_inference_requires_grad(value)
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place; returns self."""
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._check_inference_requires_grad(requires_grad)
        self._requires_grad = bool(requires_grad)
        return self

    def _check_inference_requires_grad(self, value: bool) -> None:
        if value and self._inference and not _grad_state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self) -> Any:
        gf = self._grad_fn
        if type(gf) is InvalidViewNode:
            raise RuntimeError(gf.message)
        return gf

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def grad(self) -> Tensor | None:
        if self._grad_fn is not None and not self.retains_grad:
            warnings.warn(NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is None:
            self._grad = None
            return
        if not isinstance(value, Tensor):
            raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                            f"type {type(value).__name__}")
        if value is self:
            raise RuntimeError("can't assign Variable as its own grad")
        if value._data.dtype != self._data.dtype:
            raise RuntimeError(
                f"attempting to assign a gradient with dtype '{_py_dtype_name(value.dtype)}' "
                f"to a tensor with grad_dtype '{self.dtype.scalar_name}'. The gradient must "
                "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
                "the tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                "gradient may break downstream systems that assume they match.")
        if value._data.shape != self._data.shape:
            raise RuntimeError(
                f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor are "
                "the same size")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def _counter(self) -> VersionCounter:
        """This memory's version counter; made on first use, since most op outputs are
        never saved, viewed or written in place (one object fewer per op)."""
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        return vc

    @_counter.setter
    def _counter(self, counter: VersionCounter) -> None:
        self._vc = counter

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen (shared with views)."""
        return self._counter.value

    def _edge(self) -> tuple:
        """The graph edge a gradient for this tensor flows into."""
        if self._grad_fn is not None:
            return (self._grad_fn, self._output_nr)
        if self._requires_grad:
            return (self._accumulator(), 0)
        return (None, 0)

    def _accumulator(self) -> AccumulateGrad:
        """This leaf's AccumulateGrad node: one per leaf while the graph holds it."""
        ref = self._grad_acc
        node = ref() if ref is not None else None
        if node is None:
            node = AccumulateGrad(self)
            self._grad_acc = weakref.ref(node)
        return node

    @property
    def retains_grad(self) -> bool:
        gf = self._grad_fn
        return bool(gf is not None and gf._retain and self._output_nr in gf._retain
                    and gf._retain[self._output_nr]() is self)

    def retain_grad(self) -> None:
        """Keep .grad for this non-leaf after backward (no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        gf = self._grad_fn
        if gf is None:
            return
        if gf._retain is None:
            gf._retain = {}
        gf._retain[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """hook(grad) -> Tensor or None runs when this tensor's gradient is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._grad_fn is not None:
            return self._grad_fn.add_tensor_pre_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook: Callable) -> RemovableHandle:
        """hook(tensor) runs after .grad of this leaf has been updated."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        handle = RemovableHandle(self._post_acc_hooks)
        self._post_acc_hooks[handle.id] = hook
        return handle

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaves) into the leaves' .grad."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A new leaf sharing data and version counter, with no history."""
        t = Tensor._make(self._data)
        t._counter = self._counter
        t._inference = self._inference
        return t

    def detach_(self) -> Tensor:
        """Drop this tensor's history in place."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        if self._grad_fn is not None:
            self._grad_acc = DETACHED_IN_PLACE
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """A detached alias with its own version counter (torch's legacy ``.data``)."""
        t = Tensor._make(self._data)
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    def is_inference(self) -> bool:
        return self._inference

    # -- metadata ------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def layout(self) -> str:
        return "torch.strided"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self) -> Any:
        base = self._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        return base

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    # -- conversion ----------------------------------------------------------------
    def item(self) -> builtins.float | builtins.int | builtins.bool | builtins.complex:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and _grad_state.grad_enabled and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _scalar(self, kind: type, warn: builtins.bool = True) -> Any:
        if warn and self._requires_grad:
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first.",
                          UserWarning, stacklevel=3)
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return kind(self._data.reshape(()).item())

    def __float__(self) -> builtins.float:
        return self._scalar(builtins.float)

    def __int__(self) -> builtins.int:
        return self._scalar(builtins.int)

    def __index__(self) -> builtins.int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return builtins.int(self._data.reshape(()).item())

    def __complex__(self) -> builtins.complex:
        return self._scalar(builtins.complex, warn=False)

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is "
                               "ambiguous")
        return builtins.bool(self._data.reshape(()).item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __repr__(self) -> str:
        from .printing import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    # -- copying -------------------------------------------------------------------
    def __deepcopy__(self, memo: dict) -> Tensor:
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                "this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        t = Tensor._make(self._data.copy(), self._requires_grad)
        if type(self) is not Tensor:
            t = _retype(t, type(self))
        if self._grad is not None:
            t._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, protocol: int) -> Any:
        raise TypeError("tapegrad tensors cannot be pickled; use tapegrad.save, which writes "
                        "safetensors and never runs code on load.")


_new = object.__new__
_ndarray = np.ndarray


def _retype(t: Tensor, cls: type) -> Tensor:
    """Re-create ``t`` as an instance of a Tensor subclass (nn.Parameter), same state."""
    out = _new(cls)
    t._counter                      # noqa: B018 -- made now, so that both share it
    for name in Tensor.__slots__:
        if name != "__weakref__":
            setattr(out, name, getattr(t, name))
    return out


def _py_dtype_name(d: _dt.dtype) -> str:
    return {"float64": "double", "float32": "float", "float16": "half", "int64": "long",
            "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}[d.name]


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _to_nested(data: Any) -> Any:
    """Lists/tuples that may hold Tensors -> plain nested Python/NumPy values."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_to_nested(d) for d in data]
    return data


_CPU = device("cpu")


def tensor_method(*names: str) -> Callable[[Callable], Callable]:
    """Attach a function to Tensor under the given method names (default: its own name)."""

    def attach(fn: Callable) -> Callable:
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn

    return attach
