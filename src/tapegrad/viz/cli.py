"""The command line: ``python -m tapegrad.viz "y = x**2 * sin(x)" --at x=3 [--out graph.svg]``.

The expression is parsed with ``ast`` and evaluated by a small interpreter that knows only
names, numbers, arithmetic operators and calls to a whitelist of tapegrad functions; nothing
is handed to ``eval``, so no other code can run.
"""

from __future__ import annotations

import argparse
import ast
import operator
import sys
from typing import Any

import tapegrad

from ..tensor import Tensor
from .explain import explain
from .model import build_model
from .render import Graph

__all__ = ["FUNCTIONS", "evaluate", "main"]

FUNCTIONS = {name: getattr(tapegrad, name) for name in (
    "sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "neg",
    "reciprocal", "sum", "mean", "matmul", "mm", "dot", "pow") if hasattr(tapegrad, name)}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class UnsafeExpression(ValueError):
    """The expression uses something other than names, numbers, arithmetic and whitelisted calls."""


def _reject(node: ast.AST, why: str) -> UnsafeExpression:
    return UnsafeExpression(f"not allowed in an expression: {why} "
                            f"('{ast.unparse(node)}'). Allowed: names, numbers, + - * / ** @, "
                            f"and calls to {', '.join(sorted(FUNCTIONS))}.")


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise NameError(f"name '{node.id}' is not defined: give it a value with "
                            f"--at {node.id}=...")
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, env))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise _reject(node, "a call to a function outside the whitelist")
        if node.keywords:
            raise _reject(node, "keyword arguments")
        return FUNCTIONS[node.func.id](*(_eval(a, env) for a in node.args))
    raise _reject(node, type(node).__name__)


def evaluate(source: str, env: dict[str, Any]) -> tuple[str, Any]:
    """Run ``name = expr`` statements (``;`` or newlines between them); return the last one."""
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as e:
        raise UnsafeExpression(f"cannot parse the expression: {e.msg}") from None
    last = ("result", None)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, _eval(stmt.value, env)
            if name in FUNCTIONS:
                raise _reject(stmt, f"assigning to the function name '{name}'")
        elif isinstance(stmt, ast.Expr):
            name, value = "result", _eval(stmt.value, env)
        else:
            raise _reject(stmt, type(stmt).__name__)
        env[name] = value
        last = (name, value)
    return last


def _parse_value(text: str) -> Tensor:
    """``3`` or ``1,2,3`` -> a float tensor that requires grad."""
    parts = [float(p) for p in text.split(",") if p.strip()]
    data = parts[0] if len(parts) == 1 and "," not in text else parts
    return tapegrad.tensor(data, requires_grad=True)


def main(argv: list[str] | None = None) -> int:
    """Draw the expression's graph, write it, and print the backward pass explained."""
    parser = argparse.ArgumentParser(
        prog="python -m tapegrad.viz",
        description="Draw an expression's autograd graph and explain its backward pass.")
    parser.add_argument("expression", help='e.g. "y = x**2 * sin(x)"')
    parser.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                        help="a leaf's value: x=3 or v=1,2,3 (repeatable)")
    parser.add_argument("--out", default="graph.svg", help="output file (.svg, .dot, .png, .pdf)")
    args = parser.parse_args(argv)
    leaves: dict[str, Tensor] = {}
    for item in args.at:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            parser.error(f"--at expects NAME=VALUE, got '{item}'")
        try:
            leaves[name.strip()] = _parse_value(value)
        except ValueError:
            parser.error(f"--at {item}: the value must be numbers separated by commas")
    env: dict[str, Any] = dict(leaves)
    try:
        name, result = evaluate(args.expression, env)
    except (UnsafeExpression, NameError, TypeError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not isinstance(result, Tensor) or result.grad_fn is None:
        print("error: the expression does not depend on any --at value, so there is no graph "
              "to draw", file=sys.stderr)
        return 2
    names = {id(v): k for k, v in env.items() if isinstance(v, Tensor)}
    names[id(result)] = name
    gradient = None if result.numel() == 1 else tapegrad.ones_like(result)
    text_names = dict(names)
    explain(result, gradient, names=text_names)
    graph = Graph(build_model(result, None, names, True, True, False))
    try:
        path = graph.save(args.out)
    except (RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"\nGraph written to {path}")
    return 0
