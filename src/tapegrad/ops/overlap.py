"""Memory overlap between an in-place op's output and its inputs, judged as torch does.

torch refuses to write a tensor while reading another that shares part of its memory
(``x[1:].add_(x[:-1])``), and lets through full overlap (``x.add_(x)``), disjoint memory,
and layouts it finds "too hard" to tell (anything not a dense block, like a diagonal).
"""

from __future__ import annotations

import numpy as np

PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the "
                   "written-to tensor refer to a single memory location. Please clone() the "
                   "tensor before performing the operation.")


def _dense(a: np.ndarray) -> bool:
    """torch's is_non_overlapping_and_dense: the elements fill one block, in some order."""
    expected = a.itemsize
    for size, stride in sorted(zip(a.shape, map(abs, a.strides)), key=lambda p: p[1]):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


def _byte_bounds(a: np.ndarray) -> tuple:
    low = a.ctypes.data
    for size, stride in zip(a.shape, a.strides):
        if stride < 0:
            low += (size - 1) * stride
    return low, low + a.nbytes


def check_no_partial_overlap(out: np.ndarray, src: np.ndarray) -> None:
    """torch's assert_no_partial_overlap: writing ``out`` while reading ``src`` that shares
    some (not all, in the same layout) of its memory is refused; arrays that are not dense
    blocks are "too hard" to tell, and pass, as in torch."""
    if not out.size or not src.size or not (_dense(out) and _dense(src)):
        return
    out_lo, out_hi = _byte_bounds(out)
    src_lo, src_hi = _byte_bounds(src)
    if (out_lo, out_hi) == (src_lo, src_hi):
        if out.strides == src.strides:
            return
    elif not (out_lo < src_hi and src_lo < out_hi):
        return
    raise RuntimeError(PARTIAL_OVERLAP)
