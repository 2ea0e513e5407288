"""tapegrad.save / tapegrad.load: state dicts in safetensors files, never pickle.

A file is a standard safetensors file. Its tensors are the distinct tensors of the saved
object (a tensor reachable twice is stored once and comes back as one object); the shape of
the object around them (dicts, lists, tuples, numbers, strings, None) is JSON in the file's
metadata under "tapegrad", with tensors referenced by their key. Loading parses JSON and
raw arrays only, so no file can make load run code, whatever it holds. A safetensors file
written by another library (e.g. safetensors.torch.save_file) loads as a dict of tensors.

Differs from torch on purpose: torch.save pickles arbitrary objects; here only the types
above can be saved, and views of one storage are saved as independent tensors.
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import IO, Any

import numpy as np

from .tensor import Tensor

_FORMAT_KEY = "tapegrad"
_FORMAT_VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"


class LoadError(ValueError):
    """The file cannot be loaded: truncated, corrupted, or not a safetensors file."""


class _Encoder:
    """Turns an object into JSON-able structure, collecting its tensors under string keys."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._key_of: dict[int, str] = {}
        self._keep_alive: list[Any] = []
        self.complex128: list[str] = []

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, complex):
            return {"complex": [self.encode(obj.real, where), self.encode(obj.imag, where)]}
        if isinstance(obj, Tensor):
            return {"tensor": self._store(obj, obj.detach().numpy()),
                    "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
            return {"ndarray": self._store(obj, obj)}
        if isinstance(obj, dict):
            return {"dict": [[self.encode(k, f"{where}[{k!r}] (key)"),
                              self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
            return {"list" if isinstance(obj, list) else "tuple": items}
        raise TypeError(f"cannot save object of type '{type(obj).__name__}' at {where}: "
                        "tapegrad.save stores tensors, NumPy arrays, dicts, lists, tuples, "
                        "numbers, strings and None")

    def _store(self, owner: Any, array: np.ndarray) -> str:
        key = self._key_of.get(id(owner))
        if key is None:
            key = self._key_of[id(owner)] = str(len(self.arrays))
            self._keep_alive.append(owner)  # ids stay unique while we hold the owner
            if array.dtype == np.complex128:  # safetensors has no complex128
                array = np.stack([array.real, array.imag], axis=-1)
                self.complex128.append(key)
            # (np.ascontiguousarray would turn a 0-d array into a 1-d one.)
            self.arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
        return key


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """torch.save(obj, f): write obj (tensors in nested dicts/lists/tuples, numbers, strings,
    None) to a safetensors file; raises TypeError naming any other type and where it is."""
    from safetensors.numpy import save as to_bytes

    encoder = _Encoder()
    structure = encoder.encode(obj, "obj")
    metadata = {_FORMAT_KEY: json.dumps({"version": _FORMAT_VERSION, "object": structure,
                                         "complex128": encoder.complex128},
                                        allow_nan=False)}
    data = to_bytes(encoder.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(f, "wb") as out:
            out.write(data)


def _check_container(data: bytes, name: str) -> dict:
    """Validate the safetensors framing ourselves, to name what is wrong with the file."""
    if data[:1] == b"\x80" or data[:4] == _ZIP_MAGIC:
        raise LoadError(f"{name} looks like a pickle or torch.save file; tapegrad.load reads "
                        "only safetensors files and never unpickles, because unpickling can "
                        "run arbitrary code. Convert it once in torch with "
                        "safetensors.torch.save_file(state_dict, path) if you trust it.")
    if len(data) < 8:
        raise LoadError(f"{name} is truncated or not a safetensors file: {len(data)} bytes, "
                        "fewer than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise LoadError(f"{name} is truncated or not a safetensors file: its header claims "
                        f"{header_len} bytes but only {len(data) - 8} follow")
    try:
        header = json.loads(data[8:8 + header_len])
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise LoadError(f"{name} is not a safetensors file (its header is not valid "
                        f"safetensors JSON: {e})") from None
    available, needed = len(data) - 8 - header_len, max(ends, default=0)
    if needed > available:
        raise LoadError(f"{name} is truncated: its tensors need {needed} bytes of data "
                        f"but the file holds {available}")
    if needed < available:
        raise LoadError(f"{name} is corrupted: {available - needed} unexpected bytes follow "
                        "its tensor data")
    return header


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        self.arrays, self.name = arrays, name
        self.tensors: dict[str, Tensor] = {}

    def corrupt(self, why: str) -> LoadError:
        return LoadError(f"{self.name} is corrupted: {why}")

    def array(self, key: Any) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise self.corrupt(f"it refers to a tensor {key!r} that the file does not hold")
        return self.arrays[key]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2):
            raise self.corrupt(f"unexpected structure entry {str(node)[:80]}")
        tag = next(iter(node))
        value = node[tag]
        if tag == "tensor":
            tensor = self.tensors.get(value)
            if tensor is None:
                tensor = Tensor._make(self.array(value), bool(node.get("requires_grad")))
                self.tensors[value] = tensor
            return tensor
        if tag == "ndarray":
            return self.array(value)
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "complex" and isinstance(value, list) and len(value) == 2:
            return complex(self.decode(value[0]), self.decode(value[1]))
        if tag in ("list", "tuple") and isinstance(value, list):
            items = [self.decode(v) for v in value]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(value, list):
            if not all(isinstance(kv, list) and len(kv) == 2 for kv in value):
                raise self.corrupt("a dict entry is not a [key, value] pair")
            out = {}
            for k, v in value:
                key = self.decode(k)
                try:
                    out[key] = self.decode(v)
                except TypeError:
                    raise self.corrupt(f"unhashable dict key {key!r}") from None
            return out
        raise self.corrupt(f"unknown structure tag {tag!r}")


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None, *,
         weights_only: bool = True, **_ignored: Any) -> Any:
    """torch.load(f, map_location=None, *, weights_only=True): read what save() wrote (or any
    safetensors file, as a dict of tensors). Never unpickles; raises LoadError (a ValueError)
    naming the problem for truncated, corrupted or foreign files."""
    from safetensors.numpy import load as from_bytes

    if hasattr(f, "read"):
        data, name = f.read(), "the file object"
    else:
        with open(f, "rb") as src:
            data = src.read()
        name = f"'{os.fspath(f)}'"
    header = _check_container(data, name)
    try:
        raw = from_bytes(data)
    except Exception as e:  # safetensors raises its own error types for bad files
        raise LoadError(f"{name} is corrupted: {e}") from None
    meta = header.get("__metadata__") or {}
    arrays = {k: a if a.flags.writeable else a.copy() for k, a in raw.items()}
    if _FORMAT_KEY not in meta:
        return {k: Tensor._make(a) for k, a in arrays.items()}
    try:
        document = json.loads(meta[_FORMAT_KEY])
        version, structure = document["version"], document["object"]
    except (ValueError, KeyError, TypeError) as e:
        raise LoadError(f"{name} is corrupted: its tapegrad metadata is not valid ({e})") from None
    if version != _FORMAT_VERSION:
        raise LoadError(f"{name} was written by a newer tapegrad (format version {version}; "
                        f"this one reads version {_FORMAT_VERSION})")
    for key in document.get("complex128", []):
        pair = arrays.get(key)
        if pair is None or pair.dtype != np.float64 or pair.shape[-1:] != (2,):
            raise LoadError(f"{name} is corrupted: complex tensor {key!r} is missing or "
                            "not stored as (real, imaginary) float64 pairs")
        joined = arrays[key] = np.empty(pair.shape[:-1], np.complex128)
        joined.real, joined.imag = pair[..., 0], pair[..., 1]
    return _Decoder(arrays, name).decode(structure)
