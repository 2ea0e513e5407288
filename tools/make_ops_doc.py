"""Generate docs/ops.md, the list of every torch name tapegrad supports, from the code.

``python tools/make_ops_doc.py`` rewrites docs/ops.md; ``--check`` exits 1 (and says so)
when the file differs from what the code gives. The names come from the public namespaces
(``tapegrad``, ``Tensor``, ``tapegrad.linalg``, ``tapegrad.special``,
``tapegrad.nn.functional``); each grad_fn
name is found by calling the op on small float64 inputs that require grad (every argument
pattern it accepts), so the page cannot drift from the code.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "ops.md"

# Defining module -> section. The first prefix that matches wins.
SECTIONS = [
    ("tapegrad.ops.pointwise", "Pointwise math"),
    ("tapegrad.ops.unary_math", "Pointwise math"),
    ("tapegrad.ops.binary_math", "Pointwise math"),
    ("tapegrad.ops.activation", "Activations"),
    ("tapegrad.ops.reduction", "Reductions, sorting and scans"),
    ("tapegrad.ops.matrix", "Matrix products and linear algebra"),
    ("tapegrad.ops.linalg", "Matrix products and linear algebra"),
    ("tapegrad.ops.decomp", "Matrix products and linear algebra"),
    ("tapegrad.ops.conversion", "Conversion, copying and filling"),
    ("tapegrad.ops.fill", "Conversion, copying and filling"),
    ("tapegrad.ops", "Shapes, views, indexing and joining"),
    ("tapegrad.creation", "Creation and random sampling"),
    ("tapegrad.dtypes", "Dtypes"),
    ("tapegrad.autograd", "Autograd and grad mode"),
    ("tapegrad.tensor", "Tensor attributes and autograd methods"),
    ("tapegrad.printing", "Printing"),
    ("tapegrad", "Utilities"),
]
ORDER = ["Pointwise math", "Activations", "Reductions, sorting and scans",
         "Matrix products and linear algebra", "Shapes, views, indexing and joining",
         "Conversion, copying and filling", "Creation and random sampling", "Dtypes",
         "Autograd and grad mode", "Tensor attributes and autograd methods", "Operators",
         "Printing", "Utilities", "torch.linalg", "torch.special", "torch.nn.functional"]

# Python operators torch defines on Tensor, listed under "Operators".
OPERATORS = ["__abs__", "__add__", "__and__", "__eq__", "__floordiv__", "__ge__",
             "__getitem__", "__gt__", "__iadd__", "__iand__", "__ifloordiv__", "__imod__",
             "__imul__", "__invert__", "__ior__", "__ipow__", "__isub__", "__itruediv__",
             "__ixor__", "__le__", "__lt__", "__matmul__", "__mod__", "__mul__", "__ne__",
             "__neg__", "__or__", "__pos__", "__pow__", "__radd__", "__rand__",
             "__rfloordiv__", "__rmatmul__", "__rmod__", "__rmul__", "__ror__", "__rpow__",
             "__rsub__", "__rtruediv__", "__rxor__", "__setitem__", "__sub__", "__truediv__",
             "__xor__"]

# Only ops are called to find their grad_fn: these modules hold nothing with side effects.
PROBED = ("tapegrad.ops.", "tapegrad.nn.functional", "tapegrad.creation")


def _section(module: str) -> str:
    return next(title for prefix, title in SECTIONS if module.startswith(prefix))


def _module_of(obj: Any) -> str:
    if isinstance(obj, property):
        obj = obj.fget
    module = getattr(obj, "__module__", None) or "tapegrad"
    if module == "tapegrad.ops.define" and hasattr(obj, "node_class"):
        module = obj.node_class.__module__      # made by unary/binary: where its entry is
        if not module.startswith("tapegrad"):  # a NumPy ufunc as forward, no derivative
            module = "tapegrad.ops.pointwise"
    return module


def _public(namespace: Any) -> Iterator[tuple[str, Any]]:
    names = getattr(namespace, "__all__", None) or vars(namespace)
    for name in sorted(names):
        obj = vars(namespace)[name]
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        if callable(obj) and not (inspect.isclass(obj) and not name.islower()):
            yield name, obj


# -- finding grad_fn names ------------------------------------------------------------------


def _patterns(tg: Any) -> list[Callable[[], tuple]]:
    """Argument lists tried in turn (fresh tensors each time)."""
    def x(*shape: int) -> Any:
        n = 1
        for s in shape:
            n *= s
        return (tg.arange(n, dtype=tg.float64).reshape(shape) * 0.37 + 0.5).requires_grad_()

    def idx(*values: Any) -> Any:
        return tg.tensor(values)

    def spd(n: int) -> Any:       # symmetric positive definite, for the factorisations
        a = tg.arange(n * n, dtype=tg.float64).reshape(n, n) * 0.05
        return (a + a.mT + tg.eye(n, dtype=tg.float64) * n).requires_grad_()

    def mask() -> Any:
        return tg.tensor([[True, False, True], [False, True, True], [True, True, False]])

    return [
        lambda: (x(3, 3),), lambda: (x(3, 3), x(3, 3)), lambda: (x(3, 3), 1),
        lambda: (x(3, 3), 0), lambda: (x(3),), lambda: (x(3), x(3)),
        lambda: (spd(3),), lambda: (spd(3), x(3, 2)),
        lambda: (x(3, 3), x(3, 3), x(3, 3)), lambda: (x(3, 3), 2.0), lambda: (x(3, 3), 0, 1),
        lambda: (x(2, 3, 3),), lambda: (x(2, 3, 3), x(2, 3, 3)),
        lambda: (x(3, 3), 1, idx([0, 1], [2, 0], [1, 1])),
        lambda: (x(3, 3), 0, idx(0, 2)), lambda: (x(3, 3), idx(0, 4)),
        lambda: (x(3, 3), 1, idx([0, 1], [2, 0], [1, 1]), x(3, 2)),
        lambda: (mask(), x(3, 3), x(3, 3)), lambda: (x(3, 3), mask(), 0.5),
        lambda: (x(3, 3), mask()), lambda: (x(1, 2, 4), (1, 1)),
        lambda: (x(2, 3), x(2, 3), 0.5), lambda: (x(2, 3), (3, 2)),
        lambda: ("ij,jk->ik", x(2, 3), x(3, 2)), lambda: (x(3, 3), 2, 1),
        lambda: (x(3, 3), idx(0, 1, 2)), lambda: (x(1, 2, 5), x(3, 2, 2)),
        lambda: (x(1, 2, 4, 4), x(3, 2, 2, 2)), lambda: (x(1, 2, 4, 4), 2),
        lambda: (x(2, 3), x(4, 3)), lambda: (x(2, 3), x(4, 3), x(4)),
        lambda: (x(2, 3), (3,)), lambda: ([x(2, 3), x(2, 3)],), lambda: ([x(2, 3), x(2, 3)], 1),
        lambda: (x(3, 1), 3, 4), lambda: (x(3, 3), 1, 0, 2), lambda: (x(2, 4), 1, (2, 2)),
        lambda: (x(3, 3), 0, idx(0, 2), x(2, 3)),
        lambda: (x(3, 3), 1, idx([0, 1], [2, 0], [1, 1]), x(3, 2), "sum"),
        lambda: (x(3, 3), (2, 2), (1, 2)),                      # as_strided
        lambda: (x(1, 4, 4), (3, 3), (2, 2)),                   # fold
    ]


def _grad_fn_names(out: Any) -> list[str]:
    items = out if isinstance(out, (tuple, list)) else [out]
    names = []
    for item in items:
        fn = getattr(item, "grad_fn", None)
        if fn is not None and type(fn).__name__ not in names:
            names.append(type(fn).__name__)
    return names


def _probe(fn: Callable, patterns: list) -> list[str]:
    """Every grad_fn name ``fn`` gives over the argument patterns it accepts."""
    names: list[str] = []
    for make in patterns:
        try:
            out = fn(*make())
        except Exception:       # a pattern the op does not take
            continue
        for name in _grad_fn_names(out):
            if name not in names:
                names.append(name)
    return names


# -- the table -----------------------------------------------------------------------------


class Row:
    __slots__ = ("name", "function", "method", "inplace", "grad_fns", "section")

    def __init__(self, name: str, section: str) -> None:
        self.name, self.section = name, section
        self.function = self.method = self.inplace = ""
        self.grad_fns: list[str] = []

    def cells(self) -> list[str]:
        grad = ", ".join(f"`{g}`" for g in self.grad_fns)
        return [f"`{self.name}`", self.function, self.method, self.inplace, grad]


def collect(tg: Any) -> dict[str, list[Row]]:
    """Section -> rows, for every public name of tapegrad's torch-like namespaces."""
    patterns = _patterns(tg)
    rows: dict[str, Row] = {}
    tensor_attrs = {name: obj for name, obj in vars(tg.Tensor).items()}

    def probe(fn: Callable, module: str) -> list[str]:
        return _probe(fn, patterns) if module.startswith(PROBED) else []

    for name, obj in _public(tg):
        module = _module_of(obj)
        row = rows.setdefault(name, Row(name, _section(module)))
        row.function = f"`torch.{name}`"
        row.grad_fns = probe(obj, module)
    for name, obj in sorted(tensor_attrs.items()):
        if name.startswith("_") or name.endswith("_"):
            continue
        module = _module_of(obj)
        row = rows.get(name) or rows.setdefault(name, Row(name, _section(module)))
        if isinstance(obj, property):
            row.method = f"`Tensor.{name}` (property)"
            row.grad_fns = probe(lambda x, _n=name: getattr(x, _n), module)
        else:
            row.method = f"`Tensor.{name}`"
            row.grad_fns = row.grad_fns or probe(
                lambda *a, _n=name: getattr(a[0], _n)(*a[1:]), module)
        if name + "_" in tensor_attrs:
            row.inplace = f"`Tensor.{name}_`"
    for name, obj in sorted(tensor_attrs.items()):
        if name.endswith("_") and not name.startswith("_") and name[:-1] not in tensor_attrs:
            module = _module_of(obj)
            row = rows.setdefault(name, Row(name, _section(module)))
            row.inplace = f"`Tensor.{name}`"
            # an in-place op on a non-leaf takes the op's node as its grad_fn
            row.grad_fns = probe(lambda *a, _n=name: getattr(a[0] * 1, _n)(*a[1:]), module)
    operators = []
    for name in OPERATORS:
        if name in tensor_attrs:
            row = Row(name, "Operators")
            row.method = f"`Tensor.{name}`"
            if not name.startswith(("__i", "__set")):
                row.grad_fns = _probe(lambda *a, _n=name: getattr(a[0], _n)(*a[1:]), patterns)
            operators.append(row)
    sections: dict[str, list[Row]] = {}
    for row in list(rows.values()) + operators:
        sections.setdefault(row.section, []).append(row)
    for title, namespace, prefix in (("torch.linalg", tg.linalg, "torch.linalg"),
                                     ("torch.special", tg.special, "torch.special"),
                                     ("torch.nn.functional", tg.nn.functional,
                                      "torch.nn.functional")):
        for name, obj in _public(namespace):
            row = Row(name, title)
            row.function = f"`{prefix}.{name}`"
            row.grad_fns = probe(obj, _module_of(obj)) or _probe(obj, patterns)
            sections.setdefault(title, []).append(row)
    return sections


HEADER = """# Supported operations

Generated from the code by `tools/make_ops_doc.py`; do not edit by hand (a test checks
that this page is what the generator gives: run `python3 tools/make_ops_doc.py` after
adding an op).

Every torch name tapegrad provides, by section: the `torch.` function, the `Tensor`
method, the in-place variant, and the `grad_fn` names the op records when an input
requires grad (several where the node depends on the arguments, as in torch; none for
ops whose results never require grad). Names are torch's, so code written for torch runs
with `import tapegrad as torch`.
"""


def render() -> str:
    """The text of docs/ops.md."""
    sys.path.insert(0, str(ROOT / "src"))
    import tapegrad as tg
    rng = tg.get_rng_state()         # probing samples (dropout, normal): leave no trace
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sections = collect(tg)
    finally:
        tg.set_rng_state(rng)
    lines = [HEADER]
    total = 0
    for title in ORDER:
        rows = sorted(sections.get(title, []), key=lambda r: r.name.lower())
        if not rows:
            continue
        total += len(rows)
        lines += [f"## {title}", "", "| name | function | method | in-place | grad_fn |",
                  "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
        lines.append("")
    lines.append(f"{total} names in all.")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python3 "
                  "tools/make_ops_doc.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
