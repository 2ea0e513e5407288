"""torch.return_types: the named tuples ops return (``max(dim)`` -> ``max(values,
indices)``, ``linalg.qr`` -> ``linalg_qr(Q, R)`` ...).

Like torch's (CPython struct sequences) they are tuples, built from one sequence, with
one read-only attribute per field, ``n_fields``/``n_sequence_fields``/``n_unnamed_fields``
and no ``_fields``; their repr is torch's text (``torch.return_types.max(...)``), as a
tensor's repr says ``torch.float64``. ``type(r).__module__`` is this module, as torch's
is ``torch.return_types``.
"""

from __future__ import annotations

import operator
from typing import Any

__all__ = ["aminmax", "cummax", "cummin", "kthvalue", "linalg_eigh", "linalg_qr",
           "linalg_slogdet", "linalg_svd", "max", "median", "min", "mode", "nanmedian",
           "slogdet", "sort", "topk"]


class _StructSeq(tuple):
    """A fixed-length tuple with named fields, printed one field a line as torch does."""

    __slots__ = ()
    _names: tuple = ()
    n_fields = n_sequence_fields = n_unnamed_fields = 0

    def __new__(cls, sequence: Any, dict: Any = None) -> _StructSeq:
        try:
            items = tuple(sequence)
        except TypeError:
            raise TypeError("constructor requires a sequence") from None
        if len(items) != len(cls._names):
            raise TypeError(f"torch.return_types.{cls.__name__}() takes a "
                            f"{len(cls._names)}-sequence ({len(items)}-sequence given)")
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        fields = ",\n".join(f"{name}={value!r}" for name, value in zip(self._names, self))
        return f"torch.return_types.{type(self).__name__}(\n{fields})"

    def __reduce__(self) -> tuple:
        return type(self), (tuple(self),)


def _struct_seq(name: str, *fields: str) -> type:
    attrs: dict[str, Any] = {"__slots__": (), "_names": fields, "n_fields": len(fields),
                             "n_sequence_fields": len(fields), "__module__": __name__,
                             "__doc__": f"torch.return_types.{name}({', '.join(fields)})"}
    for i, field in enumerate(fields):
        attrs[field] = property(operator.itemgetter(i))
    return type(name, (_StructSeq,), attrs)


max = _struct_seq("max", "values", "indices")
min = _struct_seq("min", "values", "indices")
median = _struct_seq("median", "values", "indices")
nanmedian = _struct_seq("nanmedian", "values", "indices")
mode = _struct_seq("mode", "values", "indices")
sort = _struct_seq("sort", "values", "indices")
topk = _struct_seq("topk", "values", "indices")
kthvalue = _struct_seq("kthvalue", "values", "indices")
cummax = _struct_seq("cummax", "values", "indices")
cummin = _struct_seq("cummin", "values", "indices")
aminmax = _struct_seq("aminmax", "min", "max")
slogdet = _struct_seq("slogdet", "sign", "logabsdet")
linalg_slogdet = _struct_seq("linalg_slogdet", "sign", "logabsdet")
linalg_qr = _struct_seq("linalg_qr", "Q", "R")
linalg_eigh = _struct_seq("linalg_eigh", "eigenvalues", "eigenvectors")
linalg_svd = _struct_seq("linalg_svd", "U", "S", "Vh")
