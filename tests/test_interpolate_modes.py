"""F.interpolate and nn.Upsample in the modes beyond nearest/linear/bilinear: bicubic,
trilinear, area, nearest-exact, nearest on 5-D input, and the antialiased bilinear, bicubic
and lanczos. Values (float64 and float32), grad_fn names and graph, first and second
derivatives (finite differences and torch), and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same_error, assert_same_tensor, check_derivatives

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(3)
SIGNAL = RNG.standard_normal((2, 2, 7))
IMAGE = RNG.standard_normal((1, 2, 5, 7))
VOLUME = RNG.standard_normal((1, 2, 3, 4, 5))

CASES = [
    (IMAGE, dict(size=(8, 11), mode="bicubic")),
    (IMAGE, dict(size=(3, 4), mode="bicubic")),
    (IMAGE, dict(scale_factor=1.7, mode="bicubic")),
    (IMAGE, dict(scale_factor=(2, 0.5), mode="bicubic", align_corners=True)),
    (IMAGE, dict(size=(1, 9), mode="bicubic", align_corners=True)),
    (IMAGE, dict(scale_factor=0.6, mode="bicubic", recompute_scale_factor=True)),
    (VOLUME, dict(size=(5, 3, 7), mode="trilinear")),
    (VOLUME, dict(scale_factor=1.5, mode="trilinear", align_corners=True)),
    (VOLUME, dict(scale_factor=(0.7, 2, 0.5), mode="trilinear")),
    (VOLUME, dict(scale_factor=2, mode="nearest")),
    (VOLUME, dict(size=(2, 5, 3), mode="nearest-exact")),
    (SIGNAL, dict(scale_factor=1.6, mode="nearest-exact")),
    (IMAGE, dict(size=(3, 9), mode="nearest-exact")),
    (SIGNAL, dict(size=3, mode="area")),
    (SIGNAL, dict(size=1, mode="area")),
    (IMAGE, dict(size=(2, 3), mode="area")),
    (IMAGE, dict(scale_factor=0.6, mode="area")),
    (IMAGE, dict(size=(7, 9), mode="area")),
    (IMAGE, dict(size=1, mode="area")),
    (VOLUME, dict(size=(2, 3, 2), mode="area")),
    (IMAGE, dict(size=(3, 4), mode="bilinear", antialias=True)),
    (IMAGE, dict(scale_factor=(0.3, 1.5), mode="bilinear", antialias=True,
                 align_corners=True)),
    (IMAGE, dict(size=(2, 3), mode="bicubic", antialias=True)),
    (IMAGE, dict(scale_factor=2, mode="bicubic", antialias=True)),
    (IMAGE, dict(size=(2, 9), mode="lanczos", antialias=True)),
    (IMAGE, dict(scale_factor=0.5, mode="lanczos", antialias=True, align_corners=False)),
]


def _graph(y) -> list:
    """Node names from y down its first edges."""
    names, node = [], y.grad_fn
    while node is not None:
        names.append(type(node).__name__)
        node = node.next_functions[0][0] if node.next_functions else None
    return names


@pytest.mark.parametrize("arg, kwargs", CASES)
def test_interpolate_mode_matches_torch(arg, kwargs) -> None:
    got = tapegrad.nn.functional.interpolate(tapegrad.tensor(arg, requires_grad=True),
                                             **kwargs)
    exp = torch.nn.functional.interpolate(torch.tensor(arg, requires_grad=True), **kwargs)
    assert_same_tensor(got, exp, rtol=1e-12, atol=1e-12)
    assert _graph(got) == _graph(exp)
    # float32: torch computes its weights in float32, tapegrad in float64 then rounds
    got32 = tapegrad.nn.functional.interpolate(tapegrad.tensor(arg, dtype=tapegrad.float32),
                                               **kwargs)
    exp32 = torch.nn.functional.interpolate(torch.tensor(arg, dtype=torch.float32), **kwargs)
    assert_same_tensor(got32, exp32, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("arg, kwargs", CASES[::2])
def test_interpolate_mode_derivatives(arg, kwargs) -> None:
    def fn(t, x):
        return t.nn.functional.interpolate(x, **kwargs) ** 2
    check_derivatives(fn, arg, torch=torch, rtol=1e-5)


def test_upsample_module_in_new_modes() -> None:
    for lib_kwargs in (dict(scale_factor=2, mode="bicubic"),
                       dict(size=(2, 3, 4), mode="trilinear", align_corners=True),
                       dict(size=(2, 2, 2), mode="area")):
        arg = IMAGE if lib_kwargs["mode"] == "bicubic" else VOLUME
        ours = tapegrad.nn.Upsample(**lib_kwargs)
        theirs = torch.nn.Upsample(**lib_kwargs)
        assert repr(ours) == repr(theirs)
        assert_same_tensor(ours(tapegrad.tensor(arg)), theirs(torch.tensor(arg)), rtol=1e-12)


def test_area_allows_an_empty_output() -> None:
    got = tapegrad.nn.functional.interpolate(tapegrad.tensor(VOLUME, requires_grad=True),
                                             size=(0, 2, 2), mode="area")
    exp = torch.nn.functional.interpolate(torch.tensor(VOLUME, requires_grad=True),
                                          size=(0, 2, 2), mode="area")
    assert_same_tensor(got, exp)
    assert type(got.grad_fn).__name__ == type(exp.grad_fn).__name__


@pytest.mark.parametrize("arg, kwargs", [
    (SIGNAL, dict(size=3, mode="bicubic")),
    (VOLUME, dict(size=3, mode="bicubic")),
    (SIGNAL, dict(size=3, mode="trilinear")),
    (IMAGE, dict(size=3, mode="trilinear")),
    (VOLUME, dict(size=3, mode="bilinear")),
    (SIGNAL, dict(size=3, mode="area", align_corners=True)),
    (IMAGE, dict(size=3, mode="nearest-exact", align_corners=False)),
    (SIGNAL, dict(size=3, mode="bilinear", antialias=True)),
    (IMAGE, dict(size=3, mode="nearest", antialias=True)),
    (VOLUME, dict(size=3, mode="trilinear", antialias=True)),
    (IMAGE, dict(size=3, mode="bilinear", recompute_scale_factor=True)),
    (IMAGE, dict(scale_factor=0.1, mode="bicubic")),
    (VOLUME, dict(scale_factor=0.1, mode="trilinear")),
    (VOLUME, dict(size=(0, 2, 2), mode="trilinear")),
    (VOLUME, dict(scale_factor=0.1, mode="nearest")),
    (SIGNAL, dict(scale_factor=0.1, mode="nearest-exact")),
    (VOLUME, dict(size=(1, 2), mode="nearest")),
    (SIGNAL, dict(size=3, mode="lanczos")),
    (IMAGE, dict(size=3, mode="lanczos")),
    (IMAGE, dict(size=3, mode="lanczos", antialias=True, align_corners=True)),
    (IMAGE, dict(size=(3, 4.5), mode="bicubic")),
    (SIGNAL, dict(size=-1, mode="area")),
    (IMAGE, dict(size=-1, mode="area")),
    (VOLUME, dict(size=-1, mode="area")),
    (IMAGE, dict(scale_factor=-1.0, mode="bicubic")),
    (IMAGE[0, 0], dict(size=3, mode="area")),
    (VOLUME[None], dict(size=3, mode="area")),
])
def test_interpolate_mode_errors(arg, kwargs) -> None:
    assert_same_error(
        lambda: tapegrad.nn.functional.interpolate(tapegrad.tensor(arg), **kwargs),
        lambda: torch.nn.functional.interpolate(torch.tensor(arg), **kwargs))


@pytest.mark.parametrize("kwargs", [
    dict(scale_factor=1.5, mode="nearest"),
    dict(scale_factor=0.37, mode="nearest-exact"),
    dict(scale_factor=1.5, mode="bilinear"),
    dict(scale_factor=2.3, mode="bilinear", align_corners=True),
    dict(scale_factor=2.3, mode="bicubic"),
    dict(scale_factor=0.5, mode="bicubic", antialias=True),
    dict(scale_factor=0.37, mode="bilinear", antialias=True),
])
def test_uint8_images_match_torch_within_its_fixed_point_rounding(kwargs) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (1, 2, 7, 9))
    got = tapegrad.nn.functional.interpolate(tapegrad.tensor(pixels, dtype=tapegrad.uint8),
                                             **kwargs)
    exp = torch.nn.functional.interpolate(torch.tensor(pixels, dtype=torch.uint8), **kwargs)
    assert got.dtype == tapegrad.uint8 and tuple(got.shape) == tuple(exp.shape)
    diff = np.abs(got.numpy().astype(int) - exp.numpy().astype(int))
    assert diff.max() <= (0 if kwargs["mode"].startswith("nearest") else 1)
