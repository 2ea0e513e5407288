"""A layered (Sugiyama-style) layout of a DAG, in pure Python.

Steps: layering (each node as close above its users as possible: longest path measured
from the sinks), dummy nodes on edges that skip layers, crossing reduction by barycentre
sweeps (keeping the best order seen), then x coordinates by isotonic regression: each box
goes as near the mean of its neighbours as the boxes beside it allow, so boxes in a layer
never overlap. Edges run from a layer to a lower one, so they read top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Layout", "layout"]

H_GAP = 24.0      # horizontal space between boxes
V_GAP = 48.0      # vertical space between layers
MARGIN = 16.0
DUMMY_WIDTH = 8.0


@dataclass
class Layout:
    """Box rectangles (x, y, w, h: top-left and size) and edge polylines."""

    boxes: dict[str, tuple[float, float, float, float]]
    edges: dict[tuple[str, str], list[tuple[float, float]]]
    width: float
    height: float
    layers: list[list[str]] = field(default_factory=list)


def _layers(nodes: list[str], succ: dict[str, list[str]], pred: dict[str, list[str]]) -> dict:
    """Layer of each node: sinks at the bottom, every node right above its nearest user."""
    out_deg = {n: len(succ[n]) for n in nodes}
    depth = {n: 0 for n in nodes}            # longest path to a sink
    ready = [n for n in nodes if out_deg[n] == 0]
    while ready:
        n = ready.pop()
        for p in pred[n]:
            depth[p] = max(depth[p], depth[n] + 1)
            out_deg[p] -= 1
            if out_deg[p] == 0:
                ready.append(p)
    top = max(depth.values(), default=0)
    layer = {n: top - depth[n] for n in nodes}
    # Sources (leaves) sit right above their highest user, not on the top row.
    for n in nodes:
        if not pred[n] and succ[n]:
            layer[n] = min(layer[s] for s in succ[n]) - 1
    return layer


def _crossings(upper: list[str], lower: list[str], down: dict[str, list[str]]) -> int:
    pos = {n: i for i, n in enumerate(lower)}
    ends = [(i, pos[s]) for i, n in enumerate(upper) for s in down[n] if s in pos]
    count = 0
    for a in range(len(ends)):
        for b in range(a + 1, len(ends)):
            (u1, l1), (u2, l2) = ends[a], ends[b]
            if (u1 - u2) * (l1 - l2) < 0:
                count += 1
    return count


def _order(rows: list[list[str]], down: dict, up: dict, sweeps: int = 8) -> list[list[str]]:
    def total(rs):
        return sum(_crossings(rs[i], rs[i + 1], down) for i in range(len(rs) - 1))

    best, best_cost = [r[:] for r in rows], total(rows)
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        rng = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for i in rng:
            ref = rows[i - 1] if downward else rows[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            nbrs = up if downward else down

            def key(item, pos=pos, nbrs=nbrs):
                k, n = item
                ps = [pos[m] for m in nbrs[n] if m in pos]
                return sum(ps) / len(ps) if ps else k
            rows[i] = [n for _, n in sorted(enumerate(rows[i]), key=key)]
        cost = total(rows)
        if cost < best_cost:
            best, best_cost = [r[:] for r in rows], cost
    return best


def _isotonic(targets: list[float], seps: list[float], weights: list[float]) -> list[float]:
    """Centres nearest (weighted least squares) to ``targets`` with x[i] - x[i-1] >= seps[i]."""
    offset, acc = [], 0.0
    for i, s in enumerate(seps):
        acc += s if i else 0.0
        offset.append(acc)
    blocks: list[list[float]] = []           # [mean, weight, count]
    for t, o, w in zip(targets, offset, weights, strict=True):
        blocks.append([t - o, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    ys = [m for m, _, c in blocks for _ in range(c)]
    return [y + o for y, o in zip(ys, offset, strict=True)]


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def layout(sizes: dict[str, tuple[float, float]], edges: list[tuple[str, str]]) -> Layout:
    """Place boxes of the given (width, height) so that every edge points downward."""
    nodes = list(sizes)
    succ = {n: [] for n in nodes}
    pred = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)
    layer = _layers(nodes, succ, pred)
    low = min(layer.values(), default=0)
    layer = {n: v - low for n, v in layer.items()}

    # Dummy nodes split edges that skip layers.
    size = dict(sizes)
    down = {n: [] for n in nodes}
    up = {n: [] for n in nodes}
    chains: dict[tuple[str, str], list[str]] = {}
    for a, b in edges:
        path = [a]
        for k in range(layer[a] + 1, layer[b]):
            d = f"_d{len(size)}"
            size[d] = (DUMMY_WIDTH, 0.0)
            layer[d] = k
            down[d], up[d] = [], []
            path.append(d)
        path.append(b)
        for u, v in zip(path, path[1:], strict=False):
            down[u].append(v)
            up[v].append(u)
        chains[(a, b)] = path
    n_layers = max(layer.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for n in size:                           # insertion order: a stable first order
        rows[layer[n]].append(n)
    rows = _order(rows, down, up)

    # x: pack, then pull each box towards its neighbours, alternating directions.
    x: dict[str, float] = {}
    for row in rows:
        acc = 0.0
        for n in row:
            x[n] = acc + size[n][0] / 2
            acc += size[n][0] + H_GAP
    reach = {n: 0 for n in size}            # longest path from a source, in layers
    for row in rows:
        for n in row:
            for m in down[n]:
                reach[m] = max(reach[m], reach[n] + 1)
    weight = {n: (0.05 if n not in sizes else 0.2 if not up[n] else 1.0 + len(up[n]))
              for n in size}
    for it in range(13):                      # ends with a top-down sweep
        rng = range(n_layers) if it % 2 == 0 else range(n_layers - 1, -1, -1)
        for i in rng:
            row = rows[i]
            targets = []
            for n in row:
                nb = up[n] + down[n] if it < 4 else (up[n] if it % 2 == 0 else down[n])
                nb = nb or up[n] + down[n]
                # Follow the longest incoming chain (the spine), not the mean of all
                # inputs: averaging drags a long graph sideways, layer after layer.
                deepest = max(reach[m] for m in nb) if nb else 0
                spine = [m for m in nb if reach[m] == deepest]
                targets.append(_median([x[m] for m in spine]) if nb else x[n])
            seps = [0.0] + [(size[row[k - 1]][0] + size[row[k]][0]) / 2 + H_GAP
                            for k in range(1, len(row))]
            # Boxes on the graph's spine hold their place; leaves and bend points give way,
            # which keeps long chains straight instead of drifting sideways.
            weights = [weight[n] for n in row]
            for n, v in zip(row, _isotonic(targets, seps, weights), strict=True):
                x[n] = v
    left = min((x[n] - size[n][0] / 2 for n in x), default=0.0)
    for n in x:
        x[n] += MARGIN - left

    y_top, acc = [], MARGIN
    heights = []
    for row in rows:
        h = max((size[n][1] for n in row), default=0.0)
        y_top.append(acc)
        heights.append(h)
        acc += h + V_GAP
    boxes = {}
    for n in nodes:
        w, h = size[n]
        i = layer[n]
        boxes[n] = (x[n] - w / 2, y_top[i] + (heights[i] - h) / 2, w, h)
    # Arrows entering one box arrive side by side, ordered as their sources are.
    entry: dict[tuple[str, str], float] = {}
    for b in nodes:
        ins = sorted((e for e in chains if e[1] == b), key=lambda e: x[chains[e][-2]])
        bx, _, bw, _ = boxes[b]
        step = min(14.0, bw / (len(ins) + 1))
        for k, e in enumerate(ins):
            entry[e] = bx + bw / 2 + (k - (len(ins) - 1) / 2) * step
    polylines = {}
    for (a, b), path in chains.items():
        ax, ay, aw, ah = boxes[a]
        bx, by, bw, bh = boxes[b]
        pts = [(ax + aw / 2, ay + ah)]
        for d in path[1:-1]:
            i = layer[d]
            pts.append((x[d], y_top[i]))
            pts.append((x[d], y_top[i] + heights[i]))
        pts.append((entry[(a, b)], by))
        polylines[(a, b)] = pts
    width = max((bx + bw for bx, _, bw, _ in boxes.values()), default=0.0) + MARGIN
    return Layout(boxes, polylines, width, acc - V_GAP + MARGIN, rows)
