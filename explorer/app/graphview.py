"""View models for graph networks (blocks and parallels): tree, layout, cards, nested table.

Everything is precomputed from an Analysis as plain data so that opening a block, the
keyboard tree and the nested table work with no Python (static export). The open/close
state lives in the browser (assets/graph.js); `layout()` here is the same algorithm as
there, used for the first drawing, the SVG download and the tests (docs/design.md §7).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..analysis import Analysis, LayerRecord, format_shape
from ..text import html as escape  # the one escaping rule (explorer/text.py)
from .theme import COLOURS, scroll_box

# Geometry, in data units (one slot = one box and its gap; one lane = one row of boxes).
BOX_W, BOX_H = 0.74, 0.42
PAD, HEAD, FORK, ARC = 0.16, 0.34, 0.3, 0.42
PX_PER_SLOT, PX_PER_LANE = 84, 74
# Lanes of a row of boxes inside one open block (frame heading above, 0.08 below): the least
# height of a graph diagram's box with blocks at the top level, so that opening one of them
# never resizes the Bokeh figure (a whole-page relayout; docs/design.md §7).
ONE_OPEN_LANES = 1 + HEAD + 0.08
MERGE_SIGN = {"add": "⊕", "concat": "‖", "multiply": "⊗"}


@dataclass(frozen=True)
class Tree:
    """Parent/child structure of the records (indices into `analysis.records`)."""

    parent: list[int]              # innermost enclosing block/parallel, -1 at top level
    kind: list[int]                # 0 leaf, 1 block, 2 parallel
    branch: list[int]              # for direct children of a parallel: which branch; else -1
    branches: list[int]            # parallels: number of branches; else 0
    children: dict[int, list[int]] = field(default_factory=dict)   # -1 → top level

    def ancestors(self, i: int) -> list[int]:
        out = []
        while self.parent[i] >= 0:
            i = self.parent[i]
            out.append(i)
        return out


def tree(analysis: Analysis) -> Tree:
    recs = analysis.records
    index = {r.name: r.index for r in recs}
    parent = [index[r.path[-1]] if r.path else -1 for r in recs]
    kind = [1 if r.type == "block" else 2 if r.type == "parallel" else 0 for r in recs]
    branch = [r.branch if r.branch is not None and parent[r.index] >= 0 and kind[parent[r.index]] == 2 else -1
              for r in recs]
    branches = [len(getattr(r.layer, "branches", ())) if kind[r.index] == 2 else 0 for r in recs]
    children: dict[int, list[int]] = {}
    for r in recs:
        children.setdefault(parent[r.index], []).append(r.index)
    return Tree(parent, kind, branch, branches, children)


def short_label(r: LayerRecord) -> str:
    """The name without its parent's prefix: "layer2.0.downsample.0" inside "layer2.0.downsample" → "0"."""
    for outer in reversed(r.path):   # the nearest enclosing name that prefixes it (merges usually do not)
        if r.name.startswith(outer + ".") and len(r.name) > len(outer) + 1:
            return r.name[len(outer) + 1:]
    return r.name


# ---------------------------------------------------------------------------------------
# Layout (mirrored by assets/graph.js: keep the two in step)

@dataclass
class Layout:
    """Box positions and sizes of a graph network's drawing, one entry per shown node."""
    x: list[float]
    y: list[float]
    w: list[float]
    h: list[float]
    open_group: list[bool]         # drawn as an open group (a frame around its contents)
    arrows: dict[str, list[float]]
    arcs: dict[str, list[float]]
    width: float = 0.0
    height: float = 0.0
    top: float = 0.5               # y extent of the drawing (main line at y = 0)
    bottom: float = -0.5


def layout(t: Tree, opened: set[int]) -> Layout:
    """Place every visible node: a closed block or a leaf is a box in one slot; an open block a
    frame around its contents; an open parallel its branches stacked, then its merge node, with an
    arc for each empty (identity) branch. Hidden rows get NaN (Bokeh draws nothing there)."""
    n = len(t.parent)
    nan = math.nan
    out = Layout([nan] * n, [nan] * n, [nan] * n, [nan] * n, [False] * n,
                 {k: [] for k in ("x0", "y0", "x1", "y1", "angle")},
                 {k: [] for k in ("x0", "y0", "x1", "y1", "cx0", "cy0", "cx1", "cy1")})

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        if dry[0]:
            return
        for k, v in zip(("x0", "y0", "x1", "y1"), (x0, y0, x1, y1)):
            out.arrows[k].append(round(v, 4))
        out.arrows["angle"].append(round(math.atan2(y1 - y0, x1 - x0) - math.pi / 2, 4))

    def box(i: int, x: float, mid: float) -> tuple[float, float, float, float, float]:
        if not dry[0]:
            out.x[i], out.y[i], out.w[i], out.h[i] = x + 0.5, mid, BOX_W, BOX_H
        return 1.0, 0.5, 0.5, x + 0.5 - BOX_W / 2, x + 0.5 + BOX_W / 2

    def node(i: int, x: float, mid: float) -> tuple[float, float, float, float, float]:
        """Place node i with its main line at height `mid`: (width, extent above, extent below,
        entry x, exit x). Siblings share the main line, so arrows between them are level."""
        if t.kind[i] == 0 or i not in opened:
            return box(i, x, mid)
        kids = t.children.get(i, [])
        if t.kind[i] == 1:
            w, up, down, _, _ = seq(kids, x + PAD, mid)
            gw, top, bottom = w + 2 * PAD, mid + up + HEAD, mid - down - 0.08
            if not dry[0]:
                out.x[i], out.y[i], out.w[i], out.h[i] = x + gw / 2, (top + bottom) / 2, gw - 0.06, top - bottom - 0.04
                out.open_group[i] = True
            return gw, up + HEAD, down + 0.08, x + 0.03, x + gw - 0.03
        members = [[k for k in kids if t.branch[k] == b] for b in range(t.branches[i])]
        ident = any(not m for m in members)
        ends: list[tuple[float, float]] = []
        starts: list[tuple[float, float]] = []
        bw, up, lane, first = 0.0, 0.5, mid, True
        for m in members:
            if not m:
                continue
            w, a, d = _measure(m)
            if not first:
                lane -= a
            _, a, d, ex, xx = seq(m, x + FORK, lane)
            if first:
                up, first = a, False
            starts.append((ex, lane))
            ends.append((xx, lane))
            bw, lane = max(bw, w), lane - d
        down = max(mid - lane, 0.5)
        mx = x + FORK + bw + FORK
        _, _, _, m_in, m_out = box(i, mx, mid)
        for ex, cy in starts:
            if abs(cy - mid) > 1e-9 or ex - x > 1e-9:
                arrow(x, mid, ex, cy)
        for xx, cy in ends:
            arrow(xx, cy, m_in, mid)
        if ident and not dry[0]:
            peak = mid + up + ARC
            for k, v in zip(("x0", "y0", "x1", "y1", "cx0", "cy0", "cx1", "cy1"),
                            (x, mid, mx + 0.5, mid + BOX_H / 2, x + 0.2, peak, mx + 0.5, peak)):
                out.arcs[k].append(round(v, 4))
        if ident:
            up += ARC
        return FORK + bw + FORK + 1.0, up, down, x, m_out

    sizes: dict[int, tuple[float, float, float]] = {}
    dry = [0]   # > 0 while measuring: nothing is drawn

    def _measure(items: list[int]) -> tuple[float, float, float]:
        """Width and extents of a branch (by its first node; each measured once)."""
        if items[0] not in sizes:
            dry[0] += 1
            w, a, d, _, _ = seq(items, 0.0, 0.0)
            dry[0] -= 1
            sizes[items[0]] = (w, a, d)
        return sizes[items[0]]

    def seq(items: list[int], x: float, mid: float) -> tuple[float, float, float, float, float]:
        w, up, down, entry, prev = 0.0, 0.5, 0.5, x, None
        for i in items:
            iw, a, d, ex, xx = node(i, x + w, mid)
            if prev is not None:
                arrow(prev, mid, ex, mid)
            else:
                entry = ex
            prev = xx
            w, up, down = w + iw, max(up, a), max(down, d)
        return w, up, down, entry, prev if prev is not None else x

    width, up, down, _, _ = seq(t.children.get(-1, []), 0.0, 0.0)
    out.top, out.bottom = up, -down
    height = up + down
    out.width, out.height = width, height
    return out


# ---------------------------------------------------------------------------------------
# Tree of layer items (WAI-ARIA tree pattern)

def tree_html(analysis: Analysis, selected: int | None = None) -> str:
    """Nested treeitems, blocks closed; the item's accessible name is the node's name. The
    client (assets/graph.js) opens and closes them and moves the roving tab stop."""
    t = tree(analysis)
    recs = analysis.records
    first = selected if selected is not None else 0
    open_now = set(t.ancestors(selected)) if selected is not None else set()

    def item(i: int, level: int) -> str:
        r = recs[i]
        kids = t.children.get(i, [])
        expanded = f' aria-expanded="{"true" if i in open_now else "false"}"' if kids else ""
        twisty = '<span class="cnnx-twisty" aria-hidden="true"></span>' if kids else '<span class="cnnx-leaf"></span>'
        extra = ""
        if t.kind[i] and r.subtotal is not None:
            what = getattr(r.layer, "module", None) if t.kind[i] == 1 else MERGE_SIGN[r.layer.merge]
            extra = f' <small>{escape(str(what))} · {r.subtotal.params:,}</small>'
        group = ""
        if kids:
            group = (f'<ul role="group"{"" if i in open_now else " hidden"}>'
                     f'{"".join(item(k, level + 1) for k in kids)}</ul>')
        # The accessible name is the full name, kept as text (never in an attribute): a hidden
        # span the item is labelled by. The visible label is the short one ("conv1").
        return (f'<li role="treeitem" data-i="{i}" aria-level="{level}" aria-labelledby="cnnx-tn-{i}"'
                f'{expanded} aria-selected="{"true" if i == selected else "false"}" '
                f'tabindex="{0 if i == first else -1}" style="--c:{COLOURS[r.category]}">'
                f'<span id="cnnx-tn-{i}" hidden>{escape(r.name)}</span>'
                f'<span class="cnnx-ti">{twisty}{escape(short_label(r))}{extra}</span>{group}</li>')

    items = "".join(item(i, 1) for i in t.children.get(-1, []))
    return (f'<div class="cnnx-treebar"><button type="button" class="cnnx-copy" data-cnnx-click="open-all" data-open="1">'
            f'Expand all</button> <button type="button" class="cnnx-copy" data-cnnx-click="open-all" data-open="0">'
            f'Collapse all</button></div>'
            f'<ul class="cnnx-tree" role="tree" aria-label="Layers ({len(recs)}); arrow keys move, Right opens, '
            f'Left closes, Enter selects" data-cnnx-click="tree" data-cnnx-key="tree">'
            f'{items}</ul>')


# ---------------------------------------------------------------------------------------
# Cards for blocks and merges

def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} % of the network" if whole else "the network has none"


def branch_shapes(analysis: Analysis, i: int) -> list[tuple[int, ...]]:
    """The output shape of each branch of parallel `i` (an empty branch passes its input on)."""
    t = tree(analysis)
    r = analysis.records[i]
    shapes = []
    for b in range(t.branches[i]):
        members = [k for k in t.children.get(i, []) if t.branch[k] == b]
        shapes.append(analysis.records[members[-1]].output_shape if members else (r.input_shape or ()))
    return shapes


def merge_sentence(analysis: Analysis, i: int) -> str:
    """The merge with its actual shapes, and why a projection is needed when they differ."""
    r = analysis.records[i]
    merge = r.layer.merge
    shapes = branch_shapes(analysis, i)
    sign = {"add": " + ", "concat": " ‖ ", "multiply": " ⊗ "}[merge]
    text = f"{sign.join(format_shape(s) for s in shapes)} → {format_shape(r.output_shape)}."
    if merge == "add" and r.input_shape is not None and tuple(r.input_shape) != tuple(r.output_shape):
        text += (f" The main path changes the shape from {format_shape(r.input_shape)} to "
                 f"{format_shape(r.output_shape)}, so the input cannot be added as it is: the shortcut needs a "
                 f"projection (a 1×1 convolution with the same stride and {r.output_shape[0]} channels, then "
                 "BatchNorm) that gives it the same shape.")
    elif merge == "add":
        text += " Shapes agree, so the shortcut can be the identity: the block learns a correction to its input."
    elif merge == "concat":
        text += (f" Channels add up ({' + '.join(str(s[0]) for s in shapes)} = {r.output_shape[0]}); "
                 "height and width must agree.")
    else:
        text += " The smaller shape is broadcast: a C×1×1 gate scales each channel of the C×H×W map."
    return text


def container_rows(analysis: Analysis, r: LayerRecord) -> list[tuple[str, str, str]]:
    t = r.subtotal
    assert t is not None
    rows = [("In → out", f"{format_shape(r.input_shape or ())} → {format_shape(r.output_shape)}", ""),
            ("Parameters", f"{t.params:,}", f"{_share(t.params, analysis.total_params)}, in {t.layers} layers"),
            ("MACs", f"{t.macs:,}", _share(t.macs, analysis.total_macs))]
    if t.buffers:
        rows.append(("Running statistics", f"{t.buffers:,} (buffers, not trained)", ""))
    if r.type == "block":
        rows.append(("PyTorch class", str(getattr(r.layer, "module", "Sequential")), "nn.Module subclass"))
    else:
        rows.append(("Merge", merge_sentence(analysis, r.index), ""))
    return rows


# ---------------------------------------------------------------------------------------
# Statistics table nested like torchinfo's depth view

def table_html(analysis: Analysis) -> str:
    """One row per node in tree order; block and merge rows carry their subtotals and a
    disclosure button; rows inside a closed block are hidden (the client opens them)."""
    from .viewmodel import human, kib
    t = tree(analysis)
    recs = analysis.records
    body: list[str] = []

    def row(i: int, depth: int) -> None:
        r = recs[i]
        kids = t.children.get(i, [])
        s = r.subtotal
        params = s.params if s is not None else r.params
        macs = s.macs if s is not None else r.macs
        memory = s.activation_bytes if s is not None else r.activation_bytes
        toggle = (f'<button type="button" class="cnnx-disclose" aria-expanded="false" data-open="{i}" '
                  f'aria-label="Rows inside" data-cnnx-click="toggle" data-i="{i}"></button>'
                  ) if kids else ""
        label = f"{escape(r.name)}" + (f" <small>({escape(getattr(r.layer, 'module', ''))})</small>"
                                       if t.kind[i] == 1 else
                                       f" <small>({MERGE_SIGN[r.layer.merge]} {r.layer.merge})</small>"
                                       if t.kind[i] == 2 else "")
        body.append(f'<tr data-rows="{i}" data-parent="{t.parent[i]}" class="cnnx-depth{min(depth, 8)}'
                    f'{" cnnx-sub" if s is not None else ""}"{" hidden" if depth else ""} '
                    f'data-i="{i}" data-cnnx-click="select"><td style="padding-left:{8 + 14 * depth}px">{toggle}{label}'
                    f'</td><td>{escape(r.shape_text)}</td><td class="num">{params:,}</td>'
                    f'<td class="num wide">{macs:,}</td><td class="num wide">{kib(memory)}</td></tr>')
        for k in kids:
            row(k, depth + 1)

    for i in t.children.get(-1, []):
        row(i, 0)
    total = analysis.total_params
    return (f'{scroll_box("Network statistics")}<table class="cnnx-table cnnx-nested"><caption class="cnnx-sr">Network '
            f'statistics, blocks with subtotals</caption><thead><tr><th scope="col">Layer</th>'
            f'<th scope="col">Output Shape</th><th scope="col" class="num">Parameters</th>'
            f'<th scope="col" class="num wide">MACs</th><th scope="col" class="num wide">Memory</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody><tfoot><tr><td>Total</td><td></td><td class="num" '
            f'data-total="{total}">{total:,} ({human(total)})</td><td class="num wide">{analysis.total_macs:,}'
            f'</td><td class="num wide">{kib(analysis.total_activation_bytes)}</td></tr></tfoot></table></div>'
            f'<p class="cnnx-hint">Block and merge rows show the subtotal of what they contain (they hold no '
            f'parameters themselves); open them to see their layers. Totals count every layer once.</p>')
