"""Bokeh models for the page: diagram, layer buttons, details card, table, code, live region.

Selection runs in the browser (CustomJS over precomputed view-model columns), so these
models work the same in the static export, the Panel server and the Pyodide page.
`Views.update()` swaps in a new network's view model when Python is live.
"""
from __future__ import annotations

import base64
from ..text import html as escape  # the one escaping rule (explorer/text.py)
from importlib import resources

from bokeh.models import (Bezier, ColumnDataSource, CustomJS, Div, GlyphRenderer, HoverTool, InlineStyleSheet,
                          PanTool, Plot, Range1d, Rect, SaveTool, Scatter, Segment, TapTool, Text)

from ..analysis import Analysis
from ..codegen import class_name, module_source
from .insights import budget_html, conventions_html
from .quiz import TOGGLE
from .theme import CSS
from .graphview import ONE_OPEN_LANES, PX_PER_LANE, PX_PER_SLOT
from .viewmodel import (EMPTY_CARD, DiagramModel, diagram_model, legend_html, nav_html, summary_line,
                        table_html)

def _asset(name: str) -> str:
    return resources.files("explorer.app").joinpath("assets", name).read_text(encoding="utf-8")


def _div(name: str, text: str, css: InlineStyleSheet, **kwargs: object) -> Div:
    return Div(name=name, text=text, disable_math=True, sizing_mode="stretch_width", stylesheets=[css], **kwargs)


def _colour(colour: str) -> dict[str, str]:
    """What bokeh.plotting's `color=` sets: the line, fill and hatch colours."""
    return {"line_color": colour, "fill_color": colour, "hatch_color": colour}


def _data_url(text: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(text.encode('utf-8')).decode('ascii')}"


def code_html(analysis: Analysis) -> str:
    """The whole-model PyTorch file with download links for it and for the JSON."""
    source = module_source(analysis)
    stem = class_name(analysis.network).lower()
    return (f'<details class="cnnx-full-code"><summary>PyTorch code for the whole network</summary>'
            f'<div class="cnnx-code"><pre><code>{escape(source)}</code></pre></div></details>'
            f'<p><a download="{escape(stem)}.py" href="{_data_url(source, "text/x-python")}">Download .py</a> · '
            f'<a download="{escape(stem)}.json" href="{_data_url(analysis.network.dumps(), "application/json")}">'
            f'Download architecture JSON</a> · '
            f'<a download="{escape(stem)}.svg" href="{_data_url(diagram_svg(diagram_model(analysis)), "image/svg+xml")}">'
            f'Download diagram (SVG)</a></p>')


def insights_html(analysis: Analysis) -> str:
    return budget_html(analysis) + conventions_html(analysis)


def diagram_svg(model: DiagramModel, px: int = 72) -> str:
    """The diagram as a standalone SVG (for lecture slides), drawn from the same view model."""
    cols = model.columns
    if model.arcs is not None:
        return _graph_svg(model)
    n = len(cols["x"])
    height, mid = 220, 110
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{n * px}" height="{height}" '
             f'font-family="sans-serif" font-size="11" text-anchor="middle">',
             '<rect width="100%" height="100%" fill="white"/>']
    scale = 70
    for x0, x1 in zip(model.arrows["x0"], model.arrows["x1"]):
        a, b = (x0 + 0.5) * px, (x1 + 0.5) * px
        parts.append(f'<line x1="{a:.1f}" y1="{mid}" x2="{b:.1f}" y2="{mid}" stroke="#666" stroke-width="1.5"/>'
                     f'<path d="M{b:.1f},{mid} l-5,-4 v8 z" fill="#666"/>')
    for i in range(n):
        cx, w, h = (cols["x"][i] + 0.5) * px, cols["w"][i] * px, cols["h"][i] * scale
        parts.append(f'<rect x="{cx - w / 2:.1f}" y="{mid - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                     f'rx="3" fill="{cols["colour"][i]}"/>'
                     f'<text x="{cx:.1f}" y="{mid - h / 2 - 6:.1f}" font-weight="bold">{escape(cols["name"][i])}</text>'
                     f'<text x="{cx:.1f}" y="{mid + h / 2 + 14:.1f}" fill="#444">{escape(cols["shape"][i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


_NO_ARCS: dict[str, list[float]] = {k: [] for k in ("x0", "y0", "x1", "y1", "cx0", "cy0", "cx1", "cy1")}


def _x_range(model: DiagramModel) -> tuple[float, float]:
    if model.arcs is None:   # flat network: one block per slot, as always
        return -0.6, len(model.columns["x"]) - 0.4
    return -0.1, model.width / PX_PER_SLOT + 0.1


def _y_range(model: DiagramModel) -> tuple[float, float]:
    return model.yspan


def _min_width(model: DiagramModel) -> int | None:
    """A flat diagram is as wide as its blocks and its box scrolls natively. A graph network's
    figure keeps the page's width whatever is open: assets/graph.js moves the drawing inside it
    through the ranges, because resizing a figure re-lays-out the whole page (docs/design.md §7)."""
    return model.width if model.arcs is None else None


def _height(model: DiagramModel) -> int:
    """The figure's height: a graph network's box starts as tall as the drawing with one
    top-level block open (assets/graph.js grows it further only when a drawing needs it)."""
    cols = model.columns
    if model.arcs is None or not any(k == 1 and p == -1 for k, p in zip(cols["node"], cols["parent"])):
        return model.height
    return max(model.height, round(PX_PER_LANE * ONE_OPEN_LANES) + 30)


def _graph_svg(model: DiagramModel) -> str:
    """A graph network's diagram as first shown (blocks closed), in SVG."""
    cols, sx, sy = model.columns, PX_PER_SLOT, PX_PER_LANE
    top = model.yspan[1]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{model.width + 10}" height="{model.height}" '
             f'font-family="sans-serif" font-size="11" text-anchor="middle">',
             '<rect width="100%" height="100%" fill="white"/>']
    a = model.arrows
    for x0, y0, x1, y1 in zip(a["x0"], a["y0"], a["x1"], a["y1"]):
        parts.append(f'<line x1="{x0 * sx:.1f}" y1="{(top - y0) * sy:.1f}" x2="{x1 * sx:.1f}" y2="{(top - y1) * sy:.1f}" '
                     f'stroke="#666" stroke-width="1.5"/>')
    for i, x in enumerate(cols["x"]):
        if x != x:   # NaN: inside a closed block
            continue
        w, h, y = cols["w"][i] * sx, cols["h"][i] * sy, (top - cols["y"][i]) * sy
        parts.append(f'<rect x="{x * sx - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3" '
                     f'fill="{cols["colour"][i]}" fill-opacity="{cols["alpha"][i]}"/>'
                     f'<text x="{x * sx:.1f}" y="{y - h / 2 - 4:.1f}" font-weight="bold">{escape(cols["tname"][i])}</text>'
                     f'<text x="{x * sx:.1f}" y="{y + h / 2 + 12:.1f}" fill="#444">{escape(cols["tshape"][i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


class Views:
    """The Bokeh models of one page and the callbacks that tie them to the selection."""

    def __init__(self, analysis: Analysis) -> None:
        model = diagram_model(analysis)
        self.source = ColumnDataSource(model.columns, name="cnnx-layers")
        self.arrows = ColumnDataSource(model.arrows, name="cnnx-arrows")
        self.arcs = ColumnDataSource(model.arcs or _NO_ARCS, name="cnnx-arcs")
        self.figure = self._figure(model)
        # One stylesheet model for the page's Divs (9 copies of the CSS were 45 KB to send). Per
        # page, not per module: a model belongs to one document, and a server has many.
        self.css = InlineStyleSheet(css=CSS)
        self.legend = _div("cnnx-part-legend", legend_html(model), self.css)
        self.nav = _div("cnnx-part-nav", nav_html(analysis), self.css)
        self.card = _div("cnnx-part-card", EMPTY_CARD, self.css)
        self.live = _div("cnnx-live", '<p class="cnnx-sr" role="status" aria-live="polite"></p>', self.css,
                         height=1, margin=0)
        self.summary = _div("cnnx-part-summary", f'<p class="cnnx-hint">{summary_line(analysis)}</p>', self.css)
        self.table = _div("cnnx-part-table", table_html(analysis), self.css)
        self.code = _div("cnnx-part-code", code_html(analysis), self.css)
        self.insights = _div("cnnx-part-insights", insights_html(analysis), self.css)
        self.quiz_toggle = _div("cnnx-part-quiz", TOGGLE, self.css)
        on_select = CustomJS(args=dict(source=self.source, card=self.card, nav=self.nav, table=self.table,
                                       live=self.live, diagram=self.figure, empty_card=EMPTY_CARD),
                             code=_asset("on_select.js"))
        self.source.selected.js_on_change("indices", on_select)
        self.source.js_on_change("data", on_select)   # a new network under an unchanged selection

    def ready(self, tier: str | None = None) -> CustomJS:
        """The document_ready callback; `tier` ("live" on the Panel server) is written to
        <html data-tier> unless the page manages it itself (the Pyodide site's loader)."""
        return CustomJS(args=dict(tier=tier or ""), code=_asset("graph.js") + "\n" + _asset("on_ready.js"))

    def _figure(self, model: DiagramModel) -> Plot:
        # A bare Plot with the glyphs bokeh.plotting.figure would make, minus its hidden axes
        # and grids: importing bokeh.plotting alone costs about 0.3 s of the Pyodide page's
        # start-up (docs/design.md §5); tests/app/test_views_plot.py checks the glyphs match.
        fig = Plot(name="cnnx-part-diagram", height=_height(model), min_width=_min_width(model),
                   sizing_mode="stretch_width", x_range=Range1d(*_x_range(model)), y_range=Range1d(*_y_range(model)),
                   toolbar_location="right", outline_line_color=None, min_border=4)
        fig.renderers.extend([
            GlyphRenderer(data_source=self.arrows, glyph=Segment(x0="x0", y0="y0", x1="x1", y1="y1",
                                                                 line_color="#666", line_width=1.5)),
            GlyphRenderer(data_source=self.arrows, glyph=Scatter(x="x1", y="y1", marker="triangle", angle="angle",
                                                                 size=8, **_colour("#666"))),
            GlyphRenderer(data_source=self.arcs, glyph=Bezier(x0="x0", y0="y0", x1="x1", y1="y1", cx0="cx0",
                                                              cy0="cy0", cx1="cx1", cy1="cy1",
                                                              line_color="#56b4e9", line_width=2))])  # identity shortcuts
        rect = dict(x="x", y="y", width="w", height="h", fill_color="colour", fill_alpha="alpha")
        blocks = GlyphRenderer(
            data_source=self.source, glyph=Rect(**rect, line_color="colour"),
            hover_glyph=Rect(**rect, line_color="#1f2328", line_width=2),
            selection_glyph=Rect(**rect, line_color="#1f2328", line_width=3),
            nonselection_glyph=Rect(**{**rect, "fill_alpha": "nalpha"}, line_color="colour", line_alpha=0.35,
                                    hatch_alpha=0.1))
        fig.renderers.append(blocks)
        for column, y, style in (("tname", "top", "bold"), ("tshape", "bottom", "normal")):
            text = dict(x="x", y=y, text=column, text_align="center", text_font_size="11px",
                        text_color="#1f2328" if style == "bold" else "#57606a")
            if y == "bottom":
                text["text_baseline"] = "top"
            if style == "bold":
                text["text_font_style"] = "bold"
            fig.renderers.append(GlyphRenderer(data_source=self.source, glyph=Text(**text),
                                            nonselection_glyph=Text(**text, text_alpha=0.6)))
        # Graph networks: a sideways drag moves the drawing inside its box (graph.js keeps the ranges).
        self.pan = PanTool(dimensions="width", description="Drag sideways to move along the network")
        fig.add_tools(
            self.pan,
            TapTool(renderers=[blocks]),
            HoverTool(renderers=[blocks], tooltips=[("Layer", "@name"), ("Kind", "@kind"),
                                                     ("Output", "@shape"), ("Parameters", "@params")]),
            SaveTool(filename="cnn-diagram"))
        fig.toolbar.logo = None
        self._pan_for(model, fig)
        # Bokeh swallows a second tap within 300 ms as a double tap; treat it as a tap too.
        fig.js_on_event("doubletap", CustomJS(code="if (window.cnnxDiagramTap) cnnxDiagramTap(cb_obj.x, cb_obj.y, false);"))
        # A tap on a block or a merge opens or closes it (graph networks; assets/graph.js).
        fig.js_on_event("tap", CustomJS(code="if (window.cnnxDiagramTap) cnnxDiagramTap(cb_obj.x, cb_obj.y, true);"))
        return fig

    def _pan_for(self, model: DiagramModel, fig: Plot) -> None:
        """The drag pans only a graph network's drawing; a flat one scrolls its box natively."""
        graph = model.arcs is not None
        self.pan.visible = graph
        fig.toolbar.active_drag = self.pan if graph else None

    def update(self, analysis: Analysis, selected: int | None) -> None:
        """Show a new network (live tiers only); keep the selection where it still exists."""
        model = diagram_model(analysis)
        n = len(model.columns["x"])
        self.source.selected.indices = []
        self.arrows.data = model.arrows
        self.arcs.data = model.arcs or _NO_ARCS
        self.source.data = model.columns
        self.figure.x_range.update(bounds=None, **dict(zip(("start", "end"), _x_range(model))))   # graph.js bounds a graph
        self.figure.y_range.update(**dict(zip(("start", "end"), _y_range(model))))
        self.figure.min_width = _min_width(model)
        self.figure.height = _height(model)
        self._pan_for(model, self.figure)
        self.legend.text = legend_html(model)
        self.summary.text = f'<p class="cnnx-hint">{summary_line(analysis)}</p>'
        self.nav.text = nav_html(analysis, selected)
        self.table.text = table_html(analysis)
        self.code.text = code_html(analysis)
        self.insights.text = insights_html(analysis)
        self.source.selected.indices = [selected] if selected is not None and selected < n else []
