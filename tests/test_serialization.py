"""tapegrad.save / load: safetensors round trips, torch interop, and safe failure on bad files."""

import io
import os
import pickle
import struct

import numpy as np
import pytest

import tapegrad
from tapegrad.serialization import LoadError


def _round_trip(obj, tmp_path):
    path = tmp_path / "obj.safetensors"
    tapegrad.save(obj, path)
    return tapegrad.load(path)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64",
                                   "float16", "float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 4)])
def test_tensor_round_trip_keeps_values_dtype_and_shape(dtype, shape, tmp_path):
    rng = np.random.default_rng(0)
    array = np.asarray(rng.standard_normal(shape) * 10).astype(dtype)
    if dtype.startswith("complex"):
        array = np.asarray(array + 1j * rng.standard_normal(shape)).astype(dtype)
    back = _round_trip(tapegrad.from_numpy(array), tmp_path)
    assert back.dtype == getattr(tapegrad, dtype) and back.shape == tapegrad.Size(shape)
    np.testing.assert_array_equal(back.numpy(), array)
    assert isinstance(back._data, np.ndarray) and back._data.flags.writeable


def test_nested_structure_round_trip(tmp_path):
    shared = tapegrad.arange(6.0).reshape(2, 3)
    obj = {"model": {"w": shared, "b": tapegrad.zeros(3)},
           "optimizer": {"state": {0: {"step": tapegrad.tensor(3.0), "buf": shared}},
                         "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1],
                                           "foreach": None, "nesterov": False}]},
           "epoch": 7, "name": "run-1", "nan": float("nan"), "inf": float("-inf"),
           "c": 1 + 2j, "empty": [], "t": (), "np": np.arange(3, dtype=np.int16),
           "grad": tapegrad.ones(2, requires_grad=True)}
    back = _round_trip(obj, tmp_path)
    assert back["model"]["w"] is back["optimizer"]["state"][0]["buf"]  # shared stays shared
    assert back["model"]["w"].tolist() == shared.tolist()
    assert back["optimizer"]["param_groups"] == obj["optimizer"]["param_groups"]
    assert type(back["optimizer"]["param_groups"][0]["betas"]) is tuple
    assert list(back["optimizer"]["state"]) == [0]  # int keys stay ints
    assert back["optimizer"]["state"][0]["step"].item() == 3.0
    assert (back["epoch"], back["name"], back["c"], back["empty"], back["t"]) == \
        (7, "run-1", 1 + 2j, [], ())
    assert np.isnan(back["nan"]) and back["inf"] == float("-inf")
    assert back["np"].dtype == np.int16 and back["np"].tolist() == [0, 1, 2]
    assert back["grad"].requires_grad and back["grad"].is_leaf
    assert back["model"]["b"].requires_grad is False


def test_non_contiguous_tensor_saves_its_values(tmp_path):
    t = tapegrad.arange(12.0).reshape(3, 4).t()
    assert _round_trip(t, tmp_path).tolist() == t.tolist()


def test_file_objects_work(tmp_path):
    buffer = io.BytesIO()
    tapegrad.save({"x": tapegrad.ones(2)}, buffer)
    buffer.seek(0)
    assert tapegrad.load(buffer)["x"].tolist() == [1.0, 1.0]


def test_optimizer_state_dict_round_trip_resumes(tmp_path):
    p = tapegrad.tensor([1.0, -2.0], dtype=tapegrad.float64, requires_grad=True)
    opt = tapegrad.optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    q = tapegrad.tensor(p.tolist(), dtype=tapegrad.float64, requires_grad=True)
    resumed = tapegrad.optim.Adam([q], lr=0.1)
    resumed.load_state_dict(_round_trip(opt.state_dict(), tmp_path))
    for param, o in ((p, opt), (q, resumed)):
        o.zero_grad()
        (param * param).sum().backward()
        o.step()
    assert p.tolist() == q.tolist()


@pytest.mark.parametrize("obj,message", [
    ({"opt": {"x": {1, 2}}}, "cannot save object of type 'set' at obj['opt']['x']"),
    ([1, object()], "cannot save object of type 'object' at obj[1]"),
    ({(1, 2): lambda: 0}, "cannot save object of type 'function' at obj[(1, 2)]"),
    (np.array(["a"]), "cannot save object of type 'ndarray' at obj"),
])
def test_unsavable_object_raises_type_error_naming_type_and_place(obj, message, tmp_path):
    with pytest.raises(TypeError) as info:
        tapegrad.save(obj, tmp_path / "x")
    assert str(info.value).startswith(message)


def test_truncated_file_raises_clear_error(tmp_path):
    path = tmp_path / "x.safetensors"
    tapegrad.save({"w": tapegrad.ones(100)}, path)
    data = path.read_bytes()
    for cut, what in ((len(data) - 10, "truncated: its tensors need"), (40, "truncated"),
                      (5, "truncated")):
        path.write_bytes(data[:cut])
        with pytest.raises(LoadError, match=what):
            tapegrad.load(path)


@pytest.mark.parametrize("content,message", [
    (b"hello, this is not a tensor file at all", "truncated or not a safetensors file"),
    (struct.pack("<Q", 4) + b"[1]!", "not a safetensors file"),
    (struct.pack("<Q", 5) + b"{oops", "not a safetensors file"),
    (b"", "fewer than the 8-byte header"),
    (b"PK\x03\x04rest-of-a-zip", "pickle or torch.save file"),
])
def test_foreign_or_garbage_file_raises_clear_error(content, message, tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        tapegrad.load(path)
    assert issubclass(LoadError, ValueError)


def test_corrupted_structure_raises_clear_error(tmp_path):
    from safetensors.numpy import save_file

    path = str(tmp_path / "bad")
    save_file({"0": np.ones(2)}, path, metadata={"tapegrad": '{"version": 1, '
                                                 '"object": {"tensor": "9"}}'})
    with pytest.raises(LoadError, match="refers to a tensor '9' that the file does not hold"):
        tapegrad.load(path)
    save_file({"0": np.ones(2)}, path, metadata={"tapegrad": "{not json"})
    with pytest.raises(LoadError, match="tapegrad metadata is not valid"):
        tapegrad.load(path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pickle_cannot_run_code_on_load(tmp_path):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Exploit(marker)}))
    with pytest.raises(LoadError, match="never unpickles"):
        tapegrad.load(path)
    assert not os.path.exists(marker)
    # The same payload hidden after a valid-looking safetensors header is only bytes.
    payload = pickle.dumps(_Exploit(marker))
    header = b'{"__metadata__": {"tapegrad": "{\\"version\\": 1, \\"object\\": null}"}}'
    path.write_bytes(struct.pack("<Q", len(header)) + header + payload)
    with pytest.raises(LoadError, match="unexpected bytes follow its tensor data"):
        tapegrad.load(path)
    assert not os.path.exists(marker)
    # Hidden as tensor data, it loads as plain uint8 numbers.
    from safetensors.numpy import save_file

    save_file({"w": np.frombuffer(payload, np.uint8)}, str(path))
    assert bytes(tapegrad.load(path)["w"].numpy()) == payload
    assert not os.path.exists(marker)


def test_torch_reads_our_file_and_we_read_torchs(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    path = str(tmp_path / "ours.safetensors")
    w = tapegrad.arange(6.0).reshape(2, 3)
    tapegrad.save({"w": w, "n": tapegrad.tensor([1, 2], dtype=tapegrad.int32)}, path)
    theirs = st_torch.load_file(path)  # tensors are stored under their index in the object
    assert theirs["0"].dtype == torch.float32 and theirs["0"].tolist() == w.tolist()
    assert theirs["1"].dtype == torch.int32 and theirs["1"].tolist() == [1, 2]

    path = str(tmp_path / "torch.safetensors")
    st_torch.save_file({"layer.weight": torch.arange(4.0).reshape(2, 2),
                        "layer.mask": torch.tensor([True, False]),
                        "half": torch.ones(3, dtype=torch.float16)}, path)
    loaded = tapegrad.load(path)
    assert sorted(loaded) == ["half", "layer.mask", "layer.weight"]
    assert loaded["layer.weight"].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert loaded["layer.mask"].dtype == tapegrad.bool
    assert loaded["half"].dtype == tapegrad.float16
