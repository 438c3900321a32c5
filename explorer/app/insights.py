"""Where the cost lives (budget bars) and why tools disagree (convention switches).

Plain HTML computed from an Analysis, so both work in the static page too.
"""
from __future__ import annotations

from ..text import html as escape  # the one escaping rule (explorer/text.py)

from ..analysis import Analysis, LayerRecord
from .theme import COLOURS, scroll_box
from .viewmodel import human


def shares(values: list[int]) -> list[float]:
    """Each value as a percentage of the total (all zeros when the total is zero)."""
    total = sum(values)
    return [100.0 * v / total if total else 0.0 for v in values]


def _top_level(analysis: Analysis) -> list[LayerRecord]:
    """The rows the cost is shared between: every layer of a flat network; the top-level
    nodes of a graph network, blocks standing for all they contain (docs/design.md §7)."""
    if analysis.network.is_flat:
        return [r for r in analysis.records if r.index > 0]
    return [r for r in analysis.records if r.index > 0 and not r.path]


def _own(r: LayerRecord) -> tuple[int, int, int, int]:
    """params, buffers, MACs, activation bytes of a row, a block's being its subtotal."""
    s = r.subtotal
    if s is not None:
        return s.params, s.buffers, s.macs, s.activation_bytes
    return r.params, r.buffers, r.macs, r.activation_bytes


def budget_html(analysis: Analysis) -> str:
    """Per-layer bars (per top-level block in a graph network): share of parameters, MACs and
    activation memory."""
    recs = _top_level(analysis)
    costs = [_own(r) for r in recs]
    metrics = (("Parameters", [c[0] for c in costs]), ("MACs", [c[2] for c in costs]),
               ("Activation memory", [c[3] for c in costs]))
    head = "".join(f'<th scope="col">{name}</th>' for name, _ in metrics)
    pcts = [shares(values) for _, values in metrics]
    rows = []
    for i, r in enumerate(recs):
        cells = "".join(
            f'<td><span class="cnnx-bar" style="width:{p[i]:.1f}%;background:{COLOURS[r.category]}"></span>'
            f'<span class="cnnx-pct">{p[i]:.1f} %</span></td>' for p in pcts)
        rows.append(f'<tr data-rows="{r.index}" data-i="{r.index}" data-cnnx-click="select"><th scope="row">'
                    f'{escape(r.name)}</th>{cells}</tr>')
    top = recs[max(range(len(recs)), key=lambda k: costs[k][0])]
    top_macs = recs[max(range(len(recs)), key=lambda k: costs[k][2])]
    p_share = pcts[0][recs.index(top)]
    m_share = pcts[1][recs.index(top)]
    lead = (f"{escape(top.name)} holds {p_share:.1f} % of the parameters but only {m_share:.1f} % of the "
            f"MACs; {escape(top_macs.name)} does the most arithmetic ({pcts[1][recs.index(top_macs)]:.1f} %).")
    if not analysis.network.is_flat:
        lead += " Blocks count everything they contain; open one in the tree to see its layers."
    return (f'<details class="cnnx-budget"><summary>Where the cost lives</summary><p>{lead}</p>'
            f'{scroll_box("Where the cost lives, by layer")}<table class="cnnx-table cnnx-budget-table"><thead><tr>'
            f'<th scope="col">Layer</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></details>')


def conventions_html(analysis: Analysis) -> str:
    """The same network counted the ways different tools count it, with a sentence on each."""
    params, buffers, macs = analysis.total_params, analysis.total_buffers, analysis.total_macs
    param_bytes = params * 4
    act = analysis.total_activation_bytes
    rows = [
        ("Parameters, PyTorch / torchinfo", f"{params:,}",
         "Counts what model.parameters() holds: weights and biases, and BatchNorm's scale γ and shift β (2·C)."),
        ("Parameters, Keras model.summary()", f"{params + buffers:,}",
         f"Keras also lists BatchNorm's running mean and variance as non-trainable parameters (4·C in all): "
         f"{buffers:,} more here." if buffers else "The same here: this network has no BatchNorm running statistics."),
        ("MACs (multiply–accumulates)", f"{macs:,} ({human(macs)})",
         "One multiply plus one add counts once; this is what torchinfo reports as mult-adds."),
        ("FLOPs ≈ 2 × MACs", f"{2 * macs:,} ({human(2 * macs)})",
         "Papers that count floating-point operations count the multiply and the add separately."),
        ("Weights in memory, MB (10⁶ bytes)", f"{param_bytes / 1e6:,.2f} MB",
         "float32 = 4 bytes per parameter; decimal megabytes, as disk sizes are quoted."),
        ("Weights in memory, MiB (2²⁰ bytes)", f"{param_bytes / 2**20:,.2f} MiB",
         "The same bytes in binary units, as RAM and most frameworks report them."),
        ("Activations for one image", f"{act / 2**20:,.2f} MiB",
         "Every layer's float32 output, summed; training stores these for the backward pass, per image."),
    ]
    body = "".join(f'<tr><th scope="row">{escape(a)}</th><td class="num">{escape(b)}</td><td>{escape(c)}</td></tr>'
                   for a, b, c in rows)
    return (f'<details class="cnnx-conventions"><summary>Why tools report different numbers</summary>'
            f'{scroll_box("Counting conventions")}<table class="cnnx-table"><thead><tr><th scope="col">Convention</th>'
            f'<th scope="col" class="num">Value</th><th scope="col">Why</th></tr></thead><tbody>{body}</tbody>'
            f'</table></div>{per_block_html(analysis)}</details>')


def per_block_html(analysis: Analysis) -> str:
    """The same conventions for each top-level block of a graph network (empty for a flat one)."""
    if analysis.network.is_flat:
        return ""
    body = []
    for r in _top_level(analysis):
        if r.subtotal is None:
            continue
        params, buffers, macs, _ = _own(r)
        body.append(f'<tr data-rows="{r.index}" data-i="{r.index}" data-cnnx-click="select"><th scope="row">'
                    f'{escape(r.name)}</th><td class="num">{params:,}</td><td class="num">{params + buffers:,}</td>'
                    f'<td class="num">{macs:,}</td><td class="num">{2 * macs:,}</td></tr>')
    if not body:
        return ""
    return (f'{scroll_box("Counting conventions per block")}<table class="cnnx-table cnnx-per-block"><caption>Per block</caption><thead><tr>'
            f'<th scope="col">Block</th><th scope="col" class="num">Parameters (PyTorch)</th>'
            f'<th scope="col" class="num">Keras count</th><th scope="col" class="num">MACs</th>'
            f'<th scope="col" class="num">FLOPs ≈ 2×MACs</th></tr></thead><tbody>{"".join(body)}</tbody></table>'
            f'</div>')
