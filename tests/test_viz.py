"""tapegrad.viz: what is drawn (DOT, SVG, layout), explain's numbers, the command line."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tapegrad as torch
from tapegrad import viz
from tapegrad.autograd.graph import AccumulateGrad
from tapegrad.viz.examples import EXAMPLES, logistic, mlp, square
from tapegrad.viz.model import collect_nodes

SRC = Path(__file__).resolve().parents[1] / "src"
SVG_NS = "{http://www.w3.org/2000/svg}"


GRAPHS = EXAMPLES


def boxes_overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("make", GRAPHS)
def test_every_node_and_edge_of_the_graph_is_drawn(make):
    root, params = make()
    g = viz.draw(root, params=params)
    nodes = collect_nodes(root.grad_fn)
    dot, svg = g.dot(), g.svg()
    ops = [type(n).__name__ for n in nodes if type(n) is not AccumulateGrad]
    for name in ops:
        assert name in dot and name in svg
    for pname in params:
        assert re.search(rf'label="{pname}\\n', dot)
    # one DOT edge per graph edge (inputs -> consumer), plus the edge into the output box
    graph_edges = {(id(nxt), id(n)) for n in nodes for nxt, _ in n.next_functions if nxt}
    dot_edges = re.findall(r"^\s+(\w+) -> (\w+)", dot, re.M)
    assert len(dot_edges) == len(graph_edges) + 1
    assert {(f"n{a}", f"n{b}") for a, b in graph_edges} <= set(dot_edges)
    svg_edges = {(e.get("data-from"), e.get("data-to"))
                 for e in ET.fromstring(svg).iter(f"{SVG_NS}path") if e.get("class") == "edge"}
    assert svg_edges == set(dot_edges)


@pytest.mark.parametrize("make", GRAPHS)
def test_boxes_never_overlap_and_edges_point_down(make):
    root, params = make()
    lay = viz.draw(root, params=params).layout
    rects = list(lay.boxes.values())
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            assert not boxes_overlap(rects[i], rects[j])
    for (a, b), pts in lay.edges.items():
        assert lay.boxes[a][1] + lay.boxes[a][3] <= lay.boxes[b][1]
        ys = [p[1] for p in pts]
        assert ys == sorted(ys)


def test_labels_name_shape_dtype_values_and_grads():
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2 * torch.sin(x)
    y.backward()
    svg = viz.draw(y).svg()
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert {"MulBackward0", "PowBackward0", "SinBackward0", "x", "y"} <= set(texts)
    assert "() float32" in texts and "= 3" in texts
    assert f"grad {x.grad.item():.4g}" in texts


def test_leaves_params_and_output_have_different_colours():
    loss, params = logistic()
    g = viz.draw(loss, params={"w": params["w"]})
    kinds = {el.get("id"): el.get("class") for el in ET.fromstring(g.svg()).iter(f"{SVG_NS}g")}
    assert sorted(kinds.values()).count("node param") == 1
    assert sorted(kinds.values()).count("node leaf") == 1       # b, named from the frame
    assert sorted(kinds.values()).count("node output") == 1
    fills = {b.kind: viz.render.COLOURS[b.kind][0] for b in g.model.boxes.values()}
    assert len(set(fills.values())) == len(fills)


def test_leaves_are_named_from_the_callers_variables():
    weight = torch.tensor([1.0, 2.0], requires_grad=True)
    total = (weight * 3).sum()
    dot = viz.draw(total).dot()
    assert 'label="weight\\n(2,) float32\\n= [1., 2.]"' in dot
    assert 'label="total\\n' in dot


def test_large_tensors_show_shape_not_values():
    big = torch.ones(4, 5, requires_grad=True)
    s = big.sum()
    dot = viz.draw(s).dot()
    assert 'label="big\\n(4, 5) float32"' in dot


def test_long_chains_of_one_op_collapse_into_one_box():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(120):
        y = y * 1.01
    y = torch.sin(y)
    g = viz.draw(y)
    labels = [b.lines[0] for b in g.model.boxes.values()]
    assert "MulBackward0 \u00d7120" in labels
    assert len(g.model.boxes) == 4          # x, the chain, sin, output
    assert len(viz.draw(y, collapse=0).model.boxes) == 123


def test_a_few_hundred_nodes_lay_out_without_overlap():
    torch.manual_seed(1)
    xs = [torch.randn(2, requires_grad=True) for _ in range(20)]
    acc = xs[0]
    for i, x in enumerate(xs[1:]):
        acc = torch.tanh(acc * x + torch.sin(x)) if i % 2 else acc + torch.exp(x) * x
    loss = acc.sum()
    lay = viz.draw(loss).layout
    rects = list(lay.boxes.values())
    assert len(rects) > 60
    assert not any(boxes_overlap(rects[i], rects[j])
                   for i in range(len(rects)) for j in range(i + 1, len(rects)))


def test_show_saved_adds_the_saved_values_with_dashed_edges():
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.sin(x) * x
    g = viz.draw(y, show_saved=True)
    saved = [b for b in g.model.boxes.values() if b.kind == "saved"]
    assert saved and all((b.id, e) in g.model.dashed for b in saved
                         for (a, e) in g.model.edges if a == b.id)
    assert "style=dashed" in g.dot()


def test_svg_is_valid_xml_and_jupyter_displays_it(tmp_path):
    loss, params = mlp()
    g = viz.draw(loss, params=params)
    root = ET.fromstring(g._repr_svg_())
    assert root.tag == f"{SVG_NS}svg"
    p = g.save(tmp_path / "g.svg")
    assert ET.parse(p).getroot().tag == f"{SVG_NS}svg"


def test_dot_is_valid(tmp_path):
    loss, params = mlp()
    path = viz.draw(loss, params=params).save(tmp_path / "g.dot")
    text = Path(path).read_text()
    assert text.startswith("digraph tapegrad {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}") and text.count('"') % 2 == 0
    for line in text.splitlines()[1:-1]:
        assert line.rstrip().endswith(";")
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg", "-o", str(tmp_path / "x.svg"), path], check=True)


def test_png_without_graphviz_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    y, _ = square()
    with pytest.raises(RuntimeError, match="needs Graphviz's `dot` program.*install graphviz"):
        viz.draw(y).save(tmp_path / "g.png")
    with pytest.raises(ValueError, match="use .svg, .dot, .png or .pdf"):
        viz.draw(y).save(tmp_path / "g.jpg")


@pytest.mark.parametrize("make", GRAPHS)
def test_explain_accumulates_what_backward_does(make, capsys):
    root, params = make()
    text = viz.explain(root, params=params)
    assert capsys.readouterr().out.strip() == text.strip()
    got = {k: v.grad.numpy().copy() for k, v in params.items()}
    root2, params2 = make()
    root2.backward()
    for k in params:
        np.testing.assert_array_equal(got[k], params2[k].grad.numpy())
        if params[k].numel() <= 6:
            assert f"{k}.grad = {viz.model.format_array(params[k].grad)}" in text
    assert all(len(n._pre_hooks or {}) == 0 for n in collect_nodes(root.grad_fn))


def test_explain_narrates_each_node_with_its_rule():
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2 * torch.sin(x)
    text = viz.explain(y)
    steps = re.findall(r"^\d+\. (\w+)", text, re.M)
    assert steps == ["MulBackward0", "SinBackward0", "PowBackward0"]
    assert "d(sin x)/dx = cos x" in text and "d(a*b)/da = b" in text
    assert f"sends {9 * np.cos(3.0):.4g} -> leaf x" in text
    assert text.rstrip().endswith(f"x.grad = {x.grad.item():.4g}")


def test_explain_twice_accumulates_like_backward_twice():
    x = torch.tensor(2.0, requires_grad=True)
    viz.explain(x * x, file=open("/dev/null", "w"))   # noqa: SIM115
    viz.explain(x * x, file=open("/dev/null", "w"))   # noqa: SIM115
    assert x.grad.item() == 8.0


def test_unknown_nodes_get_the_generic_rule():
    assert "J^T" in viz.rule_for("FooBackward0")
    assert viz.rule_for("MulBackward0").startswith("d(a*b)/da = b")


def run_cli(*args, cwd):
    env = {"PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "tapegrad.viz", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_draws_and_explains(tmp_path):
    r = run_cli("y = x**2 * sin(x)", "--at", "x=3", "--out", "g.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    x = torch.tensor(3.0)
    expected = 2 * 3.0 * np.sin(x.numpy()) + 9.0 * np.cos(x.numpy())
    assert f"x.grad = {float(expected):.4g}" in r.stdout
    assert ET.parse(tmp_path / "g.svg").getroot().tag == f"{SVG_NS}svg"


@pytest.mark.parametrize("expr", ["__import__('os')", "y = x.__class__", "y = open('f')",
                                  "import os", "y = [x for x in x]", "y = 'a'",
                                  "y = sin(x, out=x)", "sin = x"])
def test_cli_rejects_unsafe_expressions(expr, tmp_path):
    r = run_cli(expr, "--at", "x=3", cwd=tmp_path)
    assert r.returncode == 2
    assert "not allowed" in r.stderr or "cannot parse" in r.stderr
    assert not (tmp_path / "graph.svg").exists()


def test_evaluate_runs_no_python_code():
    from tapegrad.viz.cli import UnsafeExpression, evaluate
    with pytest.raises(UnsafeExpression, match="outside the whitelist"):
        evaluate("y = __import__('os').system('true')", {})
    name, value = evaluate("a = 2; b = a ** 3 - 1", {})
    assert (name, value) == ("b", 7)


def test_trace_shows_the_outputs_of_ops():
    x = torch.tensor(3.0, requires_grad=True)
    with viz.trace() as tr:
        y = x**2 * torch.sin(x)
    dot = viz.draw(y, trace=tr).dot()
    assert 'label="PowBackward0\\n() float32\\n= 9"' in dot
    assert f'label="SinBackward0\\n() float32\\n= {np.sin(np.float32(3.0)):.4g}"' in dot


def test_trace_sees_every_op_of_an_mlp_and_then_stops():
    from tapegrad.ops import define
    with viz.trace() as tr:
        loss, params = mlp()
    ops = [n for n in collect_nodes(loss.grad_fn) if type(n) is not AccumulateGrad]
    assert all(n in tr.outputs for n in ops)
    assert tr.outputs[loss.grad_fn][0] == "() float32"
    assert tr._see not in define.record_observers
    z = (params["w1"] * 2).sum()
    assert z.grad_fn not in tr.outputs


def test_trace_stops_when_the_block_raises():
    from tapegrad.ops import define
    with pytest.raises(ZeroDivisionError), viz.trace() as tr:
        raise ZeroDivisionError
    assert tr._see not in define.record_observers
