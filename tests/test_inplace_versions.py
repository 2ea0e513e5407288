"""In-place ops: version counters, the errors torch raises, grad_fn rebasing, writes
through views and ``__setitem__``; each compared with torch (values, names, messages)."""

import inspect
import os

import numpy as np
import pytest
from torch_compare import assert_same_repr

import tapegrad

torch = pytest.importorskip("torch")

HERE = os.path.basename(__file__)


def node_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def line_here() -> int:
    """The line number of the caller's current line."""
    return inspect.currentframe().f_back.f_lineno


# -- _version ----------------------------------------------------------------------------

WRITES = {
    "add_": lambda L, x: x.add_(1),
    "sub_": lambda L, x: x.sub_(1),
    "mul_": lambda L, x: x.mul_(2),
    "div_": lambda L, x: x.div_(2),
    "pow_": lambda L, x: x.pow_(2),
    "neg_": lambda L, x: x.neg_(),
    "exp_": lambda L, x: x.exp_(),
    "clamp_": lambda L, x: x.clamp_(0, 1),
    "zero_": lambda L, x: x.zero_(),
    "fill_": lambda L, x: x.fill_(3.),
    "copy_": lambda L, x: x.copy_(L.ones(3)),
    "setitem_int": lambda L, x: x.__setitem__(0, 5.),
    "setitem_slice": lambda L, x: x.__setitem__(slice(1, None), 5.),
    "setitem_mask": lambda L, x: x.__setitem__(x > 0, 2.),
    "setitem_index": lambda L, x: x.__setitem__(L.tensor([0, 2]), 1.),
    "index_put_": lambda L, x: x.index_put_((L.tensor([1]),), L.tensor(4.)),
}


def iadd(L, x):
    x += 1


def isub(L, x):
    x -= 1


def imul(L, x):
    x *= 2


def idiv(L, x):
    x /= 2


WRITES.update({"+=": iadd, "-=": isub, "*=": imul, "/=": idiv})


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_each_inplace_write_bumps_version_once(write):
    def fn(L):
        x = L.tensor([1., 2., 3.])
        before = x._version
        write(L, x)
        once = x._version
        write(L, x)
        return before, once, x._version, x
    assert_same_repr(fn, torch)


def test_out_of_place_ops_do_not_bump_version():
    def fn(L):
        x = L.tensor([1., 2., 3.])
        _ = (x + 1, x * 2, x.exp(), x.view(3), x[1:], x.clone(), x.detach(), x.sum())
        return x._version
    assert_same_repr(fn, torch)


def test_version_is_shared_by_views_and_detach_but_not_data():
    def fn(L):
        x = L.zeros(4)
        v, w, d, dat = x[1:3], x.view(2, 2), x.detach(), x.data
        seen = []
        v.add_(1)
        seen.append((x._version, v._version, w._version, d._version, dat._version))
        d.mul_(2)
        seen.append((x._version, v._version, w._version, d._version, dat._version))
        dat.add_(1)
        seen.append((x._version, v._version, w._version, d._version, dat._version))
        return seen, x
    assert_same_repr(fn, torch)


def test_detach_in_place_keeps_the_version_counter():
    def fn(L):
        x = L.ones(3, requires_grad=True)
        y = x * 2
        y.add_(1)
        y.detach_()
        y.add_(1)
        return y._version, node_name(y), y.requires_grad, y.is_leaf
    assert_same_repr(fn, torch)


def test_detach_in_place_on_view_of_tensor_requiring_grad_raises():
    def fn(L):
        x = L.ones(3, requires_grad=True)
        x.view(3).detach_()
    assert_same_repr(fn, torch)


# -- leaves ------------------------------------------------------------------------------


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_inplace_on_leaf_requiring_grad_raises(write):
    def fn(L):
        write(L, L.tensor([1., 2., 3.], requires_grad=True))
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_inplace_on_leaf_under_no_grad_is_allowed(write):
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        with L.no_grad():
            write(L, x)
        return x, x._version, x.is_leaf, x.requires_grad, x.grad_fn
    assert_same_repr(fn, torch)


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        x[1:].mul_(2)
    assert_same_repr(fn, torch)

    def fn_view(L):
        x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        x.view(4).zero_()
    assert_same_repr(fn_view, torch)


def test_view_made_under_no_grad_modified_with_grad_raises():
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        with L.no_grad():
            v = x[:2]
        v.mul_(2)
    assert_same_repr(fn, torch)


# -- modified saved tensors --------------------------------------------------------------


def modified_error(write):
    """Backward through a node that saved ``y``, after ``write(y)``; the error text."""
    x = tapegrad.tensor([1., 2., 3.], requires_grad=True)
    y = x * 1
    z = y * y
    line = write(y)
    with pytest.raises(RuntimeError) as info:
        z.sum().backward()
    return str(info.value), line


def test_modified_saved_input_raises_torch_error():
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2
        z = y * y
        y.add_(1)
        z.sum().backward()
    assert_same_repr(fn, torch)


def test_modified_saved_result_raises_torch_error():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        y.mul_(2)
        y.sum().backward()
    assert_same_repr(fn, torch)


def test_modified_saved_tensor_through_setitem_names_copy_slices():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x + 0
        z = y.sin()
        y[0] = 1.
        z.sum().backward()
    assert_same_repr(fn, torch)


def test_modified_saved_tensor_through_a_view_raises():
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        y = x * 1
        z = y.sigmoid()
        y[1:].mul_(2)
        z.sum().backward()
    assert_same_repr(fn, torch)


def add_one(y):
    y.add_(1); return line_here()                   # noqa: E702 - the line is the point


def plus_equals(y):
    y += 1; return line_here()                      # noqa: E702


def setitem(y):
    y[0] = 5.; return line_here()                   # noqa: E702


def setitem_index(y):
    y[tapegrad.tensor([0, 2])] = 5.; return line_here()  # noqa: E702


def zero(y):
    y.zero_(); return line_here()                   # noqa: E702


def view_mul(y):
    y[1:].mul_(2); return line_here()               # noqa: E702


@pytest.mark.parametrize("write, op", [
    (add_one, "add_"), (plus_equals, "add_"), (setitem, "copy_"),
    (setitem_index, "index_put_"), (zero, "zero_"), (view_mul, "mul_")],
    ids=["add_", "+=", "setitem", "setitem_index", "zero_", "view_mul_"])
def test_modified_saved_tensor_error_names_the_inplace_op_and_its_line(write, op):
    message, line = modified_error(write)
    assert message.startswith("one of the variables needed for gradient computation has "
                              "been modified by an inplace operation: [torch.FloatTensor [3]]")
    assert message.endswith(f" It was last modified in place by {op}() at {HERE}:{line}.")


def test_modified_error_reports_the_last_of_several_writes():
    x = tapegrad.tensor([1., 2., 3.], requires_grad=True)
    y = x * 1
    z = y * y
    y.add_(1)
    y.mul_(2); line = line_here()                   # noqa: E702
    with pytest.raises(RuntimeError) as info:
        z.sum().backward()
    assert "is at version 2; expected version 0 instead." in str(info.value)
    assert str(info.value).endswith(f"by mul_() at {HERE}:{line}.")


def test_write_after_backward_needs_no_version_check():
    def fn(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        z.backward(retain_graph=True)
        with L.no_grad():
            y.add_(1)
        return x.grad, y._version
    assert_same_repr(fn, torch)


# -- rebasing a non-leaf's history -------------------------------------------------------


def test_inplace_on_non_leaf_rebases_grad_fn_as_torch_names_it():
    def fn(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2
        names = [node_name(y)]
        steps = [lambda: y.add_(1), lambda: y.mul_(y.detach()), lambda: y.__setitem__(0, 3.),
                 lambda: y.zero_(), lambda: y.fill_(2.), lambda: y.copy_(x),
                 lambda: y.clamp_(0, 10), lambda: y.exp_(), lambda: y.pow_(2),
                 lambda: y.div_(2), lambda: y.sub_(1), lambda: y.neg_(), lambda: y.sigmoid_(),
                 lambda: y.tanh_(), lambda: y.relu_(),
                 lambda: y.__setitem__(L.tensor([0]), 1.)]
        for step in steps:
            step()
            names.append((node_name(y), y.is_leaf, y._version))
        y.sum().backward()
        return names, x.grad
    assert_same_repr(fn, torch)


def test_inplace_rebase_gradients_equal_torch():
    def fn(L):
        x = L.tensor([0.5, -1., 2.], requires_grad=True)
        w = L.tensor([2., 3., 4.], requires_grad=True)
        y = x * w
        y.mul_(x)
        y += w
        y.sin_()
        y.sum().backward()
        return y, x.grad, w.grad
    assert_same_repr(fn, torch)


# -- __setitem__ on tensors with history -------------------------------------------------

WEIGHTS = np.arange(1., 7.).reshape(2, 3)


@pytest.mark.parametrize("index", [
    lambda L, y: 1, lambda L, y: (0, 1), lambda L, y: (slice(None), 2),
    lambda L, y: (Ellipsis, slice(0, 2)), lambda L, y: y > 4,
    lambda L, y: L.tensor([1, 0]), lambda L, y: (L.tensor([0, 1]), L.tensor([2, 0]))],
    ids=["int", "ints", "slice", "ellipsis", "mask", "index_tensor", "index_pair"])
@pytest.mark.parametrize("value", ["tensor", "scalar"])
def test_setitem_on_tensor_with_history(index, value):
    def fn(L):
        b = L.arange(6.).reshape(2, 3).requires_grad_()
        v = L.tensor(7., requires_grad=True)
        y = b * 2
        y[index(L, y)] = v * 3 if value == "tensor" else 5.
        (y * L.tensor(WEIGHTS.tolist())).sum().backward()
        return node_name(y), y._version, y.is_leaf, y, b.grad, v.grad
    assert_same_repr(fn, torch)


def test_setitem_with_broadcast_values_sends_summed_gradient_to_values():
    def fn(L):
        b = L.zeros(2, 3, requires_grad=True)
        row = L.tensor([1., 2., 3.], requires_grad=True)
        y = b + 1
        y[L.tensor([True, True])] = row
        (y * L.tensor(WEIGHTS.tolist())).sum().backward()
        return node_name(y), b.grad, row.grad
    assert_same_repr(fn, torch)


def test_setitem_of_a_tensor_requiring_grad_into_a_plain_tensor():
    def fn(L):
        x = L.ones(3)
        val = L.tensor(2., requires_grad=True)
        x[1] = val
        facts = (node_name(x), x.requires_grad, x.is_leaf)
        (x * x).sum().backward()
        return facts, val.grad
    assert_same_repr(fn, torch)


# -- views after in-place writes ---------------------------------------------------------


def test_writing_through_a_view_gives_the_base_copy_slices():
    def fn(L):
        b = L.arange(6.).reshape(2, 3).requires_grad_()
        y = b * 1
        v = y[0]
        before = (node_name(v), v.is_leaf, v._version)
        v.mul_(2)
        after = (node_name(v), node_name(y), v._version, y._version, v.is_leaf, y.is_leaf)
        (y * y).sum().backward()
        return before, after, b.grad
    assert_same_repr(fn, torch)


def test_views_made_before_an_inplace_write_of_their_base_get_new_history():
    def fn(L):
        b = L.arange(6.).reshape(2, 3).requires_grad_()
        y = b * 1
        row, col, flat, chain = y[1], y[:, 1], y.view(6)[::2], y.t()[1:]
        y.mul_(2)
        names = [node_name(t) for t in (row, col, flat, chain)] + [node_name(y)]
        loss = row.sum() + (col * col).sum() + (flat ** 3).sum() + (chain * 5).sum()
        loss.backward()
        return names, [t._version for t in (row, col, flat, chain)], b.grad
    assert_same_repr(fn, torch)


def test_sibling_views_see_a_write_through_another_view():
    def fn(L):
        b = L.arange(6.).reshape(2, 3).requires_grad_()
        y = b * 1
        first, second = y[0], y[1]
        first.mul_(2)
        second.add_(first)
        names = (node_name(first), node_name(second), node_name(y))
        (y * y).sum().backward()
        return names, b.grad
    assert_same_repr(fn, torch)


def test_view_gradient_after_base_write_under_no_grad():
    def fn(L):
        b = L.arange(6.).reshape(2, 3).requires_grad_()
        y = b * 1
        v = y[0]
        with L.no_grad():
            y.mul_(2)
        (v * v).sum().backward()
        return node_name(v), v, b.grad
    assert_same_repr(fn, torch)


def test_second_derivative_through_regenerated_views():
    def fn(L):
        b = L.arange(6., dtype=L.float64).reshape(2, 3).requires_grad_()
        y = b * 1
        v, w = y[1, 2], y.t()[1:]
        y.mul_(y.detach() + 1)
        loss = v * 3 + (w ** 3).sum()
        g, = L.autograd.grad(loss, b, create_graph=True)
        g2, = L.autograd.grad((g * g).sum(), b)
        return g, g2
    assert_same_repr(fn, torch)


@pytest.mark.parametrize("write", [
    lambda L, y: y.sub_(L.ones(3) * 0.5),      # an optimizer-style update
    lambda L, y: y.add_(0.5),
    lambda L, y: y.mul_(L.full((3,), 2.0)),
    lambda L, y: y.div_(2.0),
    lambda L, y: y.exp_(),
], ids=["sub_tensor", "add_float", "mul_tensor", "div_float", "exp_"])
def test_views_take_their_base_history_after_a_no_grad_write(write):
    def fn(L):
        a = L.tensor([1., 2., 3.], requires_grad=True)
        y = a * 1
        v = y[:2]
        with L.no_grad():
            write(L, y)
        v.sum().backward()
        return node_name(v), v, y._version, v._version, a.grad
    assert_same_repr(fn, torch)


def _base_written(L, y):
    v = y[0]
    y.mul_(2)
    return [v, y]


def _written_through_a_sibling_view(L, y):
    v, w = y[0], y[1]
    w.mul_(3)
    return [v, w, y]


def _view_of_a_view_base_written(L, y):
    v = y[:, 1:]
    vv = v[0]
    y.add_(1)
    return [v, vv]


def _view_of_a_view_written_through_its_parent(L, y):
    v = y[:, 1:]
    vv = v[0]
    v.mul_(2)
    return [vv, y]


def _written_through_the_inner_view(L, y):
    v = y[0]
    vv = v[1:]
    vv.mul_(2)
    return [v, vv, y]


def _transposed_and_diagonal_views_then_setitem(L, y):
    t, d = y.t(), y.diagonal()
    y[0, 0] = 5
    return [t, d, y]


def _views_before_and_after_a_write(L, y):
    v = y.view(6)
    y.mul_(2)
    return [v, y.view(6)]


def _expanded_view_then_zero(L, y):
    v, row = y.expand(2, 2, 3), y[1]
    y.zero_()
    return [v, row, y]


def _base_written_under_no_grad(L, y):
    v = y[0]
    with L.no_grad():
        y.mul_(2)
    return [v, y]


def _written_through_a_detached_alias(L, y):
    v = y[0]
    y.detach().mul_(2)
    return [v, y]


VIEW_CASES = [_base_written, _written_through_a_sibling_view, _view_of_a_view_base_written,
              _view_of_a_view_written_through_its_parent, _written_through_the_inner_view,
              _transposed_and_diagonal_views_then_setitem, _views_before_and_after_a_write,
              _expanded_view_then_zero, _base_written_under_no_grad,
              _written_through_a_detached_alias]


@pytest.mark.parametrize("case", VIEW_CASES, ids=lambda f: f.__name__[1:])
def test_views_of_a_written_base_have_torch_grad_fn_and_gradients(case):
    def fn(L):
        b = L.arange(1., 7., dtype=L.float64).reshape(2, 3).requires_grad_()
        outs = case(L, b * 1)
        names = [node_name(o) for o in outs]
        loss = sum((o * L.arange(1., o.numel() + 1, dtype=L.float64).reshape(o.shape)).sum()
                   for o in outs)
        loss.backward()
        return names, [o.requires_grad for o in outs], b.grad
    assert_same_repr(fn, torch)


def _no_grad_view_base_written(L, y):
    with L.no_grad():
        v = y[0]
    y.mul_(2)
    return v


def _no_grad_view_and_write(L, y):
    with L.no_grad():
        v = y[0]
        y.mul_(2)
    return v


def _no_grad_view_written_itself(L, y):
    with L.no_grad():
        v = y[0]
        v.mul_(2)
    return v


def _no_grad_view_detached_alias_written(L, y):
    with L.no_grad():
        v = y[0]
    y.detach().mul_(2)
    return v


def _other_view_made_under_no_grad(L, y):
    v = y[0]
    with L.no_grad():
        w = y[1]
    w.detach().mul_(2)
    return v


@pytest.mark.parametrize("case", [_no_grad_view_base_written, _no_grad_view_and_write,
                                  _no_grad_view_written_itself,
                                  _no_grad_view_detached_alias_written,
                                  _other_view_made_under_no_grad],
                         ids=lambda f: f.__name__[1:])
def test_no_grad_view_of_a_written_base_refuses_its_grad_fn_as_torch(case):
    def fn(L):
        b = L.arange(1., 7.).reshape(2, 3).requires_grad_()
        return node_name(case(L, b * 1))
    assert_same_repr(fn, torch)


def test_no_grad_view_of_a_leaf_keeps_no_grad_fn_after_a_write():
    def fn(L):
        x = L.arange(1., 7.).reshape(2, 3).requires_grad_()
        with L.no_grad():
            v = x[0]
            x.mul_(2)
        return node_name(v), v
    assert_same_repr(fn, torch)


# -- detach_() of a saved tensor ---------------------------------------------------------


@pytest.mark.parametrize("use", [
    lambda L, x, y: y * y, lambda L, x, y: x * y, lambda L, x, y: y.exp().sum() + y.sin()],
    ids=["saved_self", "saved_other", "saved_by_sin"])
def test_backward_through_a_saved_tensor_detached_in_place_raises(use):
    def fn(L):
        x = L.ones(3, requires_grad=True)
        y = x * 2
        z = use(L, x, y)
        y.detach_()
        z.sum().backward()
    assert_same_repr(fn, torch)


def test_saved_tensor_detached_in_place_can_still_be_read_and_reused():
    def fn(L):
        x = L.ones(3, requires_grad=True)
        y = x * 2
        z = y * y
        unsaved = (y + 1).sum()
        y.detach_()
        unsaved.backward()
        y.requires_grad_()
        (y * 3).sum().backward()
        return z.grad_fn._saved_self, x.grad, y.grad
    assert_same_repr(fn, torch)


def test_saved_result_detached_in_place_is_still_usable():
    def fn(L):
        x = L.ones(3, requires_grad=True)
        y = x.exp()
        z = y.sum()
        y.detach_()
        z.backward()
        return x.grad
    assert_same_repr(fn, torch)


# -- views that cannot be regenerated, and reshape copies --------------------------------


@pytest.mark.parametrize("split", [lambda y: y.unbind(), lambda y: y.split(1),
                                   lambda y: y.chunk(2)], ids=["unbind", "split", "chunk"])
def test_multi_output_view_after_its_base_was_written_raises(split):
    def read_grad_fn(L):
        x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 1
        first, _ = split(y)
        y.mul_(2)
        return first.grad_fn
    assert_same_repr(read_grad_fn, torch)

    def sibling_written(L):
        x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 1
        first, second = split(y)
        with L.no_grad():
            y[1].zero_()
        return second.grad_fn
    assert_same_repr(sibling_written, torch)


def test_multi_output_views_untouched_by_writes_keep_working():
    def fn(L):
        x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        first, second = (x * 1).unbind()
        (first * second).sum().backward()
        return node_name(first), x.grad
    assert_same_repr(fn, torch)


def test_reshape_that_copies_is_not_a_view():
    def fn(L):
        x = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 1
        view, copy = y.reshape(4), y.t().reshape(4)
        y.mul_(3)
        facts = (node_name(view), node_name(copy), view._version, copy._version, copy)
        (view.sum() + (copy * copy).sum()).backward()
        return facts, x.grad
    assert_same_repr(fn, torch)


def test_reshape_copy_of_plain_tensor_has_its_own_version():
    def fn(L):
        a = L.ones(2, 3)
        copy = a.t().reshape(6)
        view = a.reshape(6)
        a.add_(1)
        return copy._version, view._version, copy, view
    assert_same_repr(fn, torch)
