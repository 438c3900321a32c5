"""View models: everything the page shows, precomputed from an Analysis as plain data.

The client-side callbacks only look things up in these columns, so selecting a layer
works with no Python running (static export, prerendered Pyodide page).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from ..text import html as escape  # the one escaping rule (explorer/text.py)
from typing import Any

from ..analysis import Analysis, LayerRecord, format_shape
from ..content import announcement, explain
from ..stepper import stepper_data
from .quiz import quiz_html
from . import graphview
from .theme import COLOURS, LEGEND, icon, scroll_box


def human(n: float) -> str:
    """620810 → "~620K"; 10906826 → "~10.9M" (as the seed's table rounds)."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= div:
            value = n / div
            decimals = max(0, 3 - len(str(int(value))))   # three significant digits, truncated
            value = math.floor(value * 10**decimals) / 10**decimals
            return f"~{value:.{decimals}f}{unit}"
    return f"{n:,.0f}"


def kib(n: int) -> str:
    """Bytes in binary units, as memory is usually reported."""
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.2f} MiB"


# ---------------------------------------------------------------------------------------
# Diagram

@dataclass(frozen=True)
class DiagramModel:
    """What the diagram draws, as plain columns (no Bokeh here)."""
    columns: dict[str, list[Any]]   # one row per block, for a Bokeh ColumnDataSource
    arrows: dict[str, list[float]]  # x0, x1, y of the connecting arrows
    width: int                      # minimum pixel width that keeps labels readable
    legend: list[tuple[str, str]]   # (label, colour) for the categories present
    arcs: dict[str, list[float]] | None = None   # graph networks: identity shortcuts (Bézier curves)
    height: int = 240               # pixel height of the figure
    yspan: tuple[float, float] = (-1.05, 1.05)   # the figure's y range


BLOCK_PITCH = 1.0
MIN_PX_PER_BLOCK = 68


def diagram_model(analysis: Analysis) -> DiagramModel:
    """Block geometry: height grows with spatial size, width with channel count. A graph
    network is laid out by explorer/app/graphview.py instead (blocks closed at first)."""
    if not analysis.network.is_flat:
        return graph_diagram_model(analysis)
    recs = analysis.records
    spatial = [r.output_shape[1] * r.output_shape[2] for r in recs if len(r.output_shape) == 3]
    channels = [r.output_shape[0] for r in recs]
    max_sp, max_c = max(spatial or [1]), max(channels)
    cols: dict[str, list[Any]] = {k: [] for k in (
        "x", "y", "w", "h", "colour", "name", "label", "shape", "params", "kind", "card", "quiz", "say",
        "top", "bottom")}
    for i, r in enumerate(recs):
        if len(r.output_shape) == 3:
            h = 0.35 + 0.9 * math.sqrt(r.output_shape[1] * r.output_shape[2] / max_sp)
        else:
            h = 0.25 + 0.35 * math.log1p(r.output_shape[0]) / math.log1p(max(max_c, 2))
        w = 0.3 + 0.45 * math.log1p(r.output_shape[0]) / math.log1p(max(max_c, 2))
        cols["x"].append(i * BLOCK_PITCH)
        cols["y"].append(0.0)
        cols["w"].append(round(w, 4))
        cols["h"].append(round(h, 4))
        cols["colour"].append(COLOURS[r.category])
        cols["name"].append(r.name)
        cols["label"].append(r.op)
        cols["shape"].append("×".join(map(str, r.output_shape)))
        cols["params"].append(f"{r.params:,}")
        cols["kind"].append(explain(r).title)
        cols["card"].append(card_html(r))
        cols["quiz"].append(quiz_html(r))
        cols["say"].append(announcement(r))
        cols["top"].append(round(h / 2 + 0.08, 4))
        cols["bottom"].append(round(-h / 2 - 0.08, 4))
    cols["tname"], cols["tshape"] = list(cols["name"]), list(cols["shape"])
    cols["alpha"], cols["nalpha"] = [1.0] * len(recs), [0.35] * len(recs)
    arrows = {"x0": [i * BLOCK_PITCH + cols["w"][i] / 2 + 0.02 for i in range(len(recs) - 1)],
              "x1": [(i + 1) * BLOCK_PITCH - cols["w"][i + 1] / 2 - 0.04 for i in range(len(recs) - 1)],
              "y": [0.0] * (len(recs) - 1)}
    arrows |= {"y0": arrows["y"], "y1": arrows["y"], "angle": [-math.pi / 2] * (len(recs) - 1)}
    present = []
    for r in recs:
        if r.category in LEGEND and r.category not in present:
            present.append(r.category)
    labels = [(_legend_label(c, recs), COLOURS[c]) for c in present]
    return DiagramModel(cols, arrows, MIN_PX_PER_BLOCK * len(recs), labels)


def _legend(recs: tuple[LayerRecord, ...]) -> list[tuple[str, str]]:
    present = []
    for r in recs:
        if r.category in LEGEND and r.category not in present:
            present.append(r.category)
    return [(_legend_label(c, recs), COLOURS[c]) for c in present]


def graph_columns(analysis: Analysis, lay: graphview.Layout) -> dict[str, list[Any]]:
    """Geometry and text columns for one open/close state (assets/graph.js recomputes them)."""
    recs = analysis.records
    cols: dict[str, list[Any]] = {k: [] for k in ("x", "y", "w", "h", "top", "bottom", "tname", "tshape",
                                                   "alpha", "nalpha")}
    for i, r in enumerate(recs):
        x, y, w, h, group = lay.x[i], lay.y[i], lay.w[i], lay.h[i], lay.open_group[i]
        shown = not math.isnan(x)
        cols["x"].append(x)
        cols["y"].append(y)
        cols["w"].append(w)
        cols["h"].append(h)
        cols["top"].append(y + h / 2 - graphview.HEAD + 0.04 if group else y + h / 2 + 0.04)
        cols["bottom"].append(y - h / 2 - 0.04)
        label = graphview.short_label(r)
        if r.type == "parallel":
            label = graphview.MERGE_SIGN[r.layer.merge]
        cols["tname"].append(label if shown else "")
        cols["tshape"].append("" if group or not shown else "×".join(map(str, r.output_shape)))
        cols["alpha"].append(0.12 if group else 1.0)
        cols["nalpha"].append(0.06 if group else 0.35)
    return cols


def graph_diagram_model(analysis: Analysis) -> DiagramModel:
    """Blocks closed, parallels open: the network at first sight (stem, layer1…, head)."""
    recs = analysis.records
    t = graphview.tree(analysis)
    opened = {i for i, k in enumerate(t.kind) if k == 2}
    lay = graphview.layout(t, opened)
    cols: dict[str, list[Any]] = {k: [] for k in ("colour", "name", "label", "shape", "params", "kind", "card",
                                                   "quiz", "say", "parent", "node", "branch", "branches")}
    for i, r in enumerate(recs):
        cols["colour"].append(COLOURS[r.category])
        cols["name"].append(r.name)
        cols["label"].append(r.op)
        cols["shape"].append("×".join(map(str, r.output_shape)))
        cols["params"].append(f"{(r.subtotal.params if r.subtotal else r.params):,}")
        cols["kind"].append(explain(r).title)
        cols["card"].append(card_html(r, analysis))
        cols["quiz"].append(quiz_html(r) if r.subtotal is None else card_html(r, analysis))
        cols["say"].append(announcement(r))
        cols["parent"].append(t.parent[i])
        cols["node"].append(t.kind[i])
        cols["branch"].append(t.branch[i])
        cols["branches"].append(t.branches[i])
    cols |= graph_columns(analysis, lay)
    return DiagramModel(cols, lay.arrows, int(graphview.PX_PER_SLOT * lay.width), _legend(recs), lay.arcs,
                        int(graphview.PX_PER_LANE * lay.height) + 30, (lay.bottom - 0.15, lay.top + 0.15))


def _legend_label(category: str, recs: tuple[LayerRecord, ...]) -> str:
    if category == "activation" and any(r.category == "activation" and r.type != "relu" for r in recs):
        return "Activation"
    return LEGEND[category]


def legend_html(model: DiagramModel) -> str:
    items = "".join(f'<li><span style="background:{c}"></span>{escape(label)}</li>' for label, c in model.legend)
    return f'<ul class="cnnx-legend" aria-label="Legend">{items}</ul>'


# ---------------------------------------------------------------------------------------
# Layer buttons, details card, statistics table

def nav_html(analysis: Analysis, selected: int | None = None) -> str:
    """Real buttons mirroring the blocks; one tab stop, arrow keys move between them. A graph
    network gets a tree instead (graphview.tree_html)."""
    if not analysis.network.is_flat:
        return graphview.tree_html(analysis, selected)
    buttons = []
    first = selected if selected is not None else 0
    for i, r in enumerate(analysis.records):
        pressed = "true" if i == selected else "false"
        buttons.append(
            f'<button type="button" data-i="{i}" aria-pressed="{pressed}" tabindex="{0 if i == first else -1}" '
            f'style="--c:{COLOURS[r.category]}" data-cnnx-click="select" data-cnnx-key="nav">'
            f'{escape(r.name)}</button>')
    return (f'<div class="cnnx-nav" role="toolbar" aria-label="Layers ({len(buttons)}); arrow keys move, '
            f'Enter selects">{"".join(buttons)}</div>')


def card_html(r: LayerRecord, analysis: Analysis | None = None) -> str:
    """The details card for one layer (element id="layer-details"); a block's or a merge's
    card shows its subtotals and their share of `analysis`."""
    e = explain(r)
    rows = [("Output shape", f"{r.shape_text}", r.shape_formula)]
    if r.subtotal is not None and analysis is not None:
        rows = graphview.container_rows(analysis, r)
    elif r.layer is not None:
        rows.append(("Parameters", f"{r.params:,}", r.param_formula))
        if r.buffers:
            rows.append(("Running statistics", f"{r.buffers:,} (buffers, not trained)",
                         f"2·{r.output_shape[0]}: running mean and variance per channel"))
        rows.append(("MACs", f"{r.macs:,}", "multiply–accumulates per image" if r.macs else ""))
    if r.subtotal is None:
        rows.append(("Activations", kib(r.activation_bytes), "float32 output of this layer, per image"))
    if r.receptive_field:
        rh, rw = r.receptive_field
        jh, jw = r.jump or (1, 1)
        rows.append(("Receptive field", f"{rh}×{rw} input pixels",
                     f"neighbouring outputs are {jh}×{jw} pixels apart on the input" if r.index else ""))
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}"
                 f"{f'<span class=cnnx-formula>{escape(f)}</span>' if f else ''}</dd>" for k, v, f in rows)
    code = ""
    if r.pytorch:
        code = (f'<div class="cnnx-code"><pre><code>{escape(r.pytorch)}</code></pre>'
                f'<button type="button" class="cnnx-copy" aria-label="Copy PyTorch line" '
                f'data-cnnx-click="copy">Copy</button></div>')
    return (f'<section id="layer-details" aria-label="Layer details">'
            f'<header>{icon(r.category)}<h2>{escape(r.name)}</h2><span class="kind">{escape(e.title)}</span>'
            f'</header><p>{escape(e.what)}</p><dl>{dl}</dl>{code}{stepper_html(r)}'
            f'<p><strong>Why it is here.</strong> {escape(e.why)}</p>'
            f'<p><strong>What the settings change.</strong> {escape(e.knobs)}</p></section>')


def stepper_html(r: LayerRecord) -> str:
    """A collapsed step-through of the sliding window (conv and pooling layers)."""
    toy = stepper_data(r)
    if toy is None:
        return ""
    what = "filter" if toy["kind"] == "conv" else "pooling window"
    return (f'<details class="cnnx-step" data-toy="{escape(json.dumps(toy, separators=(",", ":")))}" '
            f'>'
            f'<summary data-cnnx-click="step-open">Step through the sliding {what}</summary>'
            f'<p class="cnnx-hint">One {toy["size"][0]}×{toy["size"][1]} channel with this layer\'s kernel, '
            f'stride, padding{" and dilation" if toy["kind"] == "conv" else ""}; dashed cells are padding.</p>'
            f'<p><button type="button" class="cnnx-copy" data-cnnx-click="step" data-delta="-1">Previous step</button> '
            f'<button type="button" class="cnnx-copy" data-cnnx-click="step" data-delta="1">Next step</button> '
            f'<span class="cnnx-step-pos"></span></p><p class="cnnx-step-kernel cnnx-hint"></p>'
            f'{scroll_box("Step-through drawing", "cnnx-step-view")}</div>'
            f'<p class="cnnx-step-sum" aria-live="polite"></p>'
            f'</details>')


EMPTY_CARD = ('<section id="layer-details" aria-label="Layer details"><p class="cnnx-hint">'
              'Click a layer in the diagram, or use the layer buttons, to see what it does, its output '
              'shape, its parameters and its PyTorch code.</p></section>')


@dataclass(frozen=True)
class TableRow:
    """One row of the statistics table, formatted."""
    label: str
    shape: str
    params: str
    macs: int
    memory: int
    indices: tuple[int, ...]   # layers this row stands for (Conv + its BN)


def table_rows(analysis: Analysis) -> list[TableRow]:
    """Rows as the seed's table shows them: Conv + BN merged ("896 + 64"); parameter-free,
    shape-keeping layers (activations, dropout) folded into the row before them."""
    recs = analysis.records
    n_linear = sum(r.type == "linear" for r in recs)
    rows: list[TableRow] = []
    i = 0
    while i < len(recs):
        r = recs[i]
        if r.type in ("relu", "leaky_relu", "sigmoid", "tanh", "dropout") and rows:
            last = rows[-1]
            rows[-1] = TableRow(last.label, last.shape, last.params, last.macs, last.memory,
                                last.indices + (i,))
            i += 1
            continue
        label, params, idx = r.name, f"{r.params:,}", (i,)
        macs, memory = r.macs, r.activation_bytes
        nxt = recs[i + 1] if i + 1 < len(recs) else None
        if r.type == "conv2d" and nxt is not None and nxt.type == "batchnorm2d":
            label, params, idx = f"{r.name} + BN", f"{r.params:,} + {nxt.params:,}", (i, i + 1)
            macs, memory = r.macs + nxt.macs, r.activation_bytes
            i += 1
        elif r.type == "linear" and r.name == "Logits" and n_linear > 1:
            label = f"FC{n_linear} (Logits)"
        rows.append(TableRow(label, r.shape_text, params, macs, memory, idx))
        i += 1
    return rows


def table_html(analysis: Analysis) -> str:
    if not analysis.network.is_flat:
        return graphview.table_html(analysis)
    body = []
    for row in table_rows(analysis):
        body.append(
            f'<tr data-rows="{",".join(map(str, row.indices))}" data-i="{row.indices[0]}" data-cnnx-click="select">'
            f'<td>{escape(row.label)}</td><td>{escape(row.shape)}</td><td class="num">{row.params}</td>'
            f'<td class="num wide">{row.macs:,}</td><td class="num wide">{kib(row.memory)}</td></tr>')
    total = analysis.total_params
    buffers = analysis.total_buffers
    note = (f'<p class="cnnx-hint">Parameters count what <code>model.parameters()</code> holds. '
            f'BatchNorm also keeps {buffers:,} running statistics (buffers, not trained). '
            f'Activation layers have no parameters and keep the shape; they are folded into the row '
            f'above. MACs are multiply–accumulates per image.</p>') if buffers else ""
    return (f'<div class="cnnx-scroll"><table class="cnnx-table"><caption class="cnnx-sr">Network '
            f'statistics</caption><thead><tr><th scope="col">Layer</th><th scope="col">Output Shape</th>'
            f'<th scope="col" class="num">Parameters</th><th scope="col" class="num wide">MACs</th>'
            f'<th scope="col" class="num wide">Memory</th></tr></thead><tbody>{"".join(body)}</tbody>'
            f'<tfoot><tr><td>Total</td><td></td><td class="num" data-total="{total}">{total:,} '
            f'({human(total)})</td><td class="num wide">{analysis.total_macs:,}</td>'
            f'<td class="num wide">{kib(analysis.total_activation_bytes)}</td></tr></tfoot></table></div>'
            f'{note}')


def summary_line(analysis: Analysis) -> str:
    net = analysis.network
    c, h, w = net.input.shape
    return (f"{escape(net.name)}: input {c}×{h}×{w}, {len(analysis.records) - 1} layers, "
            f"{analysis.total_params:,} parameters ({human(analysis.total_params)}), "
            f"{human(analysis.total_macs)} MACs per image, output {format_shape(analysis.output_shape)}")
