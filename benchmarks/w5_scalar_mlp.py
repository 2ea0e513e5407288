"""W5: the classic scalar demo: a 2-16-16-1 tanh MLP over 100 points, one epoch of
forward, squared-error loss, backward and SGD.

Three ways: tapegrad with every number a 0-d tensor, the same model vectorised
(tapegrad and torch), and a micrograd-style pure-Python engine (``_micrograd_engine``).
"""

from __future__ import annotations

from _harness import Table, measure, np, parse_args, tapegrad, torch
from _micrograd_engine import Value

SIZES = (2, 16, 16, 1)
N_POINTS = 100
LR = 0.05


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N_POINTS, 2)).astype(np.float32)
    y = np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0).astype(np.float32)
    weights = [rng.uniform(-1, 1, (o, i)).astype(np.float32) for i, o in zip(SIZES, SIZES[1:])]
    biases = [np.zeros(o, np.float32) for o in SIZES[1:]]
    return x, y, weights, biases


def scalar_epoch(make, zero, params_w, params_b, x, y, backward, update):
    """One epoch with scalar objects: ``make(float)`` builds an input scalar."""
    loss = zero
    for xi, yi in zip(x, y):
        acts = [make(float(v)) for v in xi]
        for li, (w, b) in enumerate(zip(params_w, params_b)):
            out = []
            for row, bias in zip(w, b):
                s = bias
                for wij, a in zip(row, acts):
                    s = s + wij * a
                out.append(s.tanh() if li < len(params_w) - 1 else s)
            acts = out
        d = acts[0] - float(yi)
        loss = loss + d * d
    loss = loss * (1.0 / N_POINTS)
    backward(loss)
    update()
    return loss


def tapegrad_scalar(x, y, weights, biases):
    pw = [[[tapegrad.tensor(float(v), requires_grad=True) for v in row] for row in w]
          for w in weights]
    pb = [[tapegrad.tensor(float(v), requires_grad=True) for v in b] for b in biases]
    flat = [p for w in pw for row in w for p in row] + [p for b in pb for p in b]

    def backward(loss):
        for p in flat:
            p.grad = None
        loss.backward()

    def update():
        with tapegrad.no_grad():
            for p in flat:
                p.sub_(p.grad * LR)

    return lambda: scalar_epoch(tapegrad.tensor, tapegrad.tensor(0.0), pw, pb, x, y,
                                backward, update)


def micrograd_scalar(x, y, weights, biases):
    pw = [[[Value(float(v)) for v in row] for row in w] for w in weights]
    pb = [[Value(float(v)) for v in b] for b in biases]
    flat = [p for w in pw for row in w for p in row] + [p for b in pb for p in b]

    def backward(loss):
        for p in flat:
            p.grad = 0.0
        loss.backward()

    def update():
        for p in flat:
            p.data -= LR * p.grad

    return lambda: scalar_epoch(Value, Value(0.0), pw, pb, x, y, backward, update)


def vectorised(lib, x, y, weights, biases):
    pw = [lib.tensor(w.copy(), requires_grad=True) for w in weights]
    pb = [lib.tensor(b.copy(), requires_grad=True) for b in biases]
    tx, ty = lib.from_numpy(x), lib.from_numpy(y)

    def epoch():
        h = tx
        for i, (w, b) in enumerate(zip(pw, pb)):
            h = h @ w.T + b
            if i < len(pw) - 1:
                h = lib.tanh(h)
        d = h.reshape(-1) - ty
        loss = (d * d).sum() * (1.0 / N_POINTS)
        for p in pw + pb:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in pw + pb:
                p.sub_(p.grad * LR)
        return loss
    return epoch


def run(quick: bool) -> Table:
    reps = 2 if quick else 7
    table = Table("W5: 2-16-16-1 MLP, 100 points, one epoch", "s/epoch", 1)
    data = make_data()
    table.add("scalar (0-d tensors / Values)", "tapegrad", measure(tapegrad_scalar(*data), reps))
    table.add("scalar (0-d tensors / Values)", "micrograd-style",
              measure(micrograd_scalar(*data), reps))
    table.add("vectorised", "tapegrad", measure(vectorised(tapegrad, *data), reps * 20))
    if torch is not None:
        table.add("vectorised", "torch", measure(vectorised(torch, *data), reps * 20))
    return table


if __name__ == "__main__":
    args = parse_args(__doc__)
    print(run(args.quick).render(reference="micrograd-style"))
