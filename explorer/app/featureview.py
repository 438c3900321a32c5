"""Feature maps of the selected layer for a sample image (needs Python: live tiers only).

The view watches the page's `ExplorerState`: the forward pass runs through the whole graph
(explorer/forward.py), so a selected block or merge shows its output tensor too.

Input image on the left with the receptive field of a clicked feature-map pixel; the
selected layer's channels as a grid sharing one colour scale; flat outputs as bars, the
final output as softmax probabilities.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import panel as pn
from bokeh.events import Tap
from bokeh.models import (ColorBar, ColumnDataSource, DataRange1d, GlyphRenderer, Grid, HoverTool, Image, ImageRGBA,
                          LinearAxis, LinearColorMapper, Plot, Quad, Range1d, VBar)
from bokeh.palettes import RdBu11, Viridis256

from ..analysis import Analysis, LayerRecord, rf_box
from ..features import BUSY_SECONDS, FeatureMaps, compute, forward_cost, forward_seconds, skip_reason
from ..samples import SAMPLES, to_rgba
from ..text import html
from .busy import BUSY_CSS, busy_html, run_soon
from .rows import wrap_row
from .theme import FEATURES_HINT, FEATURES_TITLE, heading_html

if TYPE_CHECKING:
    from .state import ExplorerState

MAX_CHANNELS = 128
# Bokeh gives a column the minimum width of its widest child (the channel grid can be wider
# than a phone): let these columns shrink to the screen and scroll the grid instead
FIT = {"min-width": "0px", "max-width": "100%"}
GAP = 0.12   # space between channel tiles, in tile units
def _plot(*renderers: GlyphRenderer, tooltips: list[tuple[str, str]] | None = None, **params: Any) -> Plot:
    """A bare Plot with these renderers: what bokeh.plotting.figure(toolbar_location=None) makes,
    without importing bokeh.plotting (about 0.3 s of the first "Show feature maps" in Pyodide)
    and without the hidden axes and grids (docs/design.md §5; tests/app/test_features.py
    checks the glyphs against figure()'s)."""
    plot = Plot(toolbar_location=None, **params)
    plot.renderers.extend(renderers)
    if tooltips is not None:
        plot.add_tools(HoverTool(tooltips=tooltips))
    return plot


def grid_layout(channels: int) -> tuple[int, int]:
    """(columns, rows) for a near-square grid of channel tiles."""
    cols = max(1, math.ceil(math.sqrt(channels)))
    return cols, math.ceil(channels / cols)


def tile_at(x: float, y: float, channels: int, h: int, w: int) -> tuple[int, int, int] | None:
    """(channel, row, col) under a click at data (x, y) on the grid, or None between tiles.

    Tile c sits at column c % cols, row c // cols from the top; each tile is 1 unit wide.
    """
    cols, rows = grid_layout(channels)
    cx, ry = math.floor(x / (1 + GAP)), math.floor(y / (1 + GAP))
    fx, fy = x - cx * (1 + GAP), y - ry * (1 + GAP)   # position inside the tile cell, 0..1+GAP
    cy = rows - 1 - ry
    channel = cy * cols + cx
    if not (0 <= cx < cols and 0 <= cy < rows and channel < channels) or fx > 1 or fy > 1:
        return None
    return channel, min(int((1 - fy) * h), h - 1), min(int(fx * w), w - 1)


class FeatureView:
    """Sample picker, input image, channel grid and output bars for the selected layer."""

    def __init__(self, state: "ExplorerState | None" = None) -> None:
        self.sample = pn.widgets.Select(label="Sample image", options=list(SAMPLES), value="Red disc", width=200)
        self.filters = pn.widgets.RadioButtonGroup(options=["Classic edge detectors", "Random (seeded)"],
                                                   value="Classic edge detectors")
        self.caption = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[BUSY_CSS],
                                    name="cnnx-feature-caption")
        self.input_src = ColumnDataSource({"image": [np.zeros((1, 1), np.uint32)], "dw": [1], "dh": [1]})
        self.rf_src = ColumnDataSource({"left": [], "right": [], "top": [], "bottom": []})
        self.input_fig = _plot(
            GlyphRenderer(data_source=self.input_src, glyph=ImageRGBA(image="image", x=0, y=0, dw="dw", dh="dh")),
            GlyphRenderer(data_source=self.rf_src, glyph=Quad(left="left", right="right", top="top",
                                                              bottom="bottom", fill_alpha=0.15, fill_color="#ffd33d",
                                                              line_color="#d4a72c", line_width=2)),
            width=220, height=220, match_aspect=True, title="Input", x_range=Range1d(0, 1), y_range=Range1d(0, 1))
        self.mapper = LinearColorMapper(palette=Viridis256)
        self.grid_src = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": [], "label": []})
        self.grid_fig = _plot(
            GlyphRenderer(data_source=self.grid_src, glyph=Image(image="image", x="x", y="y", dw="dw", dh="dh",
                                                                 color_mapper=self.mapper)),
            tooltips=[("channel", "@label")], height=360, width=400, name="cnnx-feature-grid", min_border=4,
            x_range=Range1d(0, 1), y_range=Range1d(0, 1))
        self.grid_fig.add_layout(ColorBar(color_mapper=self.mapper, width=10), "right")
        self.grid_fig.on_event(Tap, self._on_tap)
        self.bar_src = ColumnDataSource({"x": [], "top": [], "label": []})
        bar = VBar(x="x", top="top", width=0.8, line_color="#cc79a7", fill_color="#cc79a7", hatch_color="#cc79a7")
        self.bar_fig = _plot(GlyphRenderer(data_source=self.bar_src, glyph=bar),
                             tooltips=[("", "@label: @top{0.000}")], height=220, sizing_mode="stretch_width",
                             visible=False, x_range=DataRange1d(), y_range=DataRange1d())
        for place, dimension in (("below", 0), ("left", 1)):     # the bars are read against their axes
            axis = LinearAxis()
            self.bar_fig.add_layout(axis, place)
            self.bar_fig.add_layout(Grid(dimension=dimension, ticker=axis.ticker), "center")
        self.sample.param.watch(lambda _e: self.refresh(), "value")
        self.filters.param.watch(lambda _e: self.refresh(), "value")
        self.analysis: Analysis | None = None
        self.index: int | None = None
        self.maps: FeatureMaps | None = None
        self.problem: str | None = None     # why no maps are shown (skipped, failed, computing)
        self._generation = 0                # a newer network makes pending computations stale
        self._base = ""
        self.layout = pn.Column(
            pn.pane.HTML(heading_html(FEATURES_TITLE, FEATURES_HINT + " Click a pixel of a feature map to see "
                                      "which input pixels it depends on."), sizing_mode="stretch_width"),
            wrap_row(self.sample, self.filters), self.caption,
            wrap_row(self.input_fig,
                     pn.Column(self.grid_fig, self.bar_fig, sizing_mode="stretch_width",
                               styles={"flex": "1 1 320px", "overflow-x": "auto", **FIT}),
                     styles={"align-items": "flex-start", **FIT}),
            sizing_mode="stretch_width", name="cnnx-part-features", css_classes=["cnnx-part-features"],
            styles=FIT)
        self.state = state
        if state is not None:
            state.param.watch(self._on_state, ["network", "selection"])
            self.show_network(state.network, state.selection)

    def _on_state(self, *events: Any) -> None:
        """The page's state changed: a new network recomputes, a new selection redraws."""
        assert self.state is not None
        if any(e.name == "network" for e in events):
            self.show_network(self.state.network, self.state.selection)
        else:
            self.show_layer(self.state.selection)

    # -- inputs from the page -------------------------------------------------------------------
    def show_network(self, analysis: Analysis, index: int | None = None) -> None:
        """A new network (and the selection that goes with it): recompute, then draw."""
        self.analysis, self.maps = analysis, None
        self.index = index if index is not None and index < len(analysis.records) else None
        self.refresh()

    def show_layer(self, index: int | None) -> None:
        self.index = index
        self._draw_layer()

    def refresh(self) -> None:
        """Recompute the maps, unless the network is over the budget; show a busy message
        first when it will take more than BUSY_SECONDS. Never raises: a failure is shown."""
        if self.analysis is None:
            return
        self._generation += 1
        generation, analysis = self._generation, self.analysis
        reason = skip_reason(analysis)
        if reason:
            self._clear(reason)
            return
        macs, _ = forward_cost(analysis)
        seconds = forward_seconds(analysis)
        if seconds > BUSY_SECONDS:
            self._clear(f"Computing the feature maps: {macs / 1e9:,.1f} GMACs, about {math.ceil(seconds)} s…",
                        busy=True)
            if run_soon(lambda: self._compute(generation)):
                return
        self._compute(generation)

    def _compute(self, generation: int) -> None:
        if generation != self._generation or self.analysis is None:
            return   # a newer network (or sample) arrived meanwhile
        try:
            maps = compute(self.analysis, self.sample.value,
                           classic_conv1=self.filters.value == "Classic edge detectors")
        except Exception as exc:   # noqa: BLE001 - any failure is shown on the page, the rest stays
            self._clear(f"Feature maps could not be computed for this network ({exc.__class__.__name__}: "
                        f"{exc}). The diagram, card and table show the network.")
            return
        self.maps, self.problem = maps, None
        c, h, w = self.maps.image.shape
        self.input_src.data = {"image": [to_rgba(self.maps.image)], "dw": [w], "dh": [h]}
        self.input_fig.x_range.update(start=0, end=w)
        self.input_fig.y_range.update(start=0, end=h)
        self._draw_layer()

    def _clear(self, message: str, *, busy: bool = False) -> None:
        """No maps: empty every plot (never the previous network's) and say why."""
        self.maps, self.problem = None, message
        self.input_src.data = {"image": [np.zeros((1, 1), np.uint32)], "dw": [1], "dh": [1]}
        self.rf_src.data = {"left": [], "right": [], "top": [], "bottom": []}
        self.grid_src.data = {"image": [], "x": [], "y": [], "dw": [], "dh": [], "label": []}
        self.bar_src.data = {"x": [], "top": [], "label": []}
        self.bar_fig.visible = False
        self.caption.object = self._base = busy_html(message, spinner=busy)

    # -- drawing ----------------------------------------------------------------------------------
    def _record(self) -> LayerRecord | None:
        if self.analysis is None or self.index is None:
            return None
        return self.analysis.records[self.index]

    def _draw_layer(self) -> None:
        self.rf_src.data = {"left": [], "right": [], "top": [], "bottom": []}
        record, maps = self._record(), self.maps
        if maps is None and self.problem:
            return   # the reason stays on screen
        if record is None or maps is None:
            self.caption.object = "<p>Select a layer to see its output for the sample image.</p>"
            self.grid_src.data = {"image": [], "x": [], "y": [], "dw": [], "dh": [], "label": []}
            self.bar_fig.visible = False
            return
        out = maps.outputs[record.index]
        if out.ndim == 3:
            self._draw_grid(record, out)
        else:
            self._draw_bars(record, out)

    def _draw_grid(self, record: LayerRecord, out: np.ndarray) -> None:
        channels = min(out.shape[0], MAX_CHANNELS)
        cols, rows = grid_layout(channels)
        labels = (self.maps.conv1_labels if record.index == 1 and self.maps and self.maps.conv1_labels
                  else None)
        data: dict[str, list[Any]] = {k: [] for k in ("image", "x", "y", "dw", "dh", "label")}
        for c in range(channels):
            data["image"].append(np.ascontiguousarray(out[c][::-1]))
            data["x"].append((c % cols) * (1 + GAP))
            data["y"].append((rows - 1 - c // cols) * (1 + GAP))
            data["dw"].append(1.0)
            data["dh"].append(1.0)
            data["label"].append(f"{c}: {labels[c]}" if labels else f"channel {c}")   # tooltips escape text
        low, high = float(out[:channels].min()), float(out[:channels].max())
        if low < 0 < high:
            bound = max(-low, high)
            self.mapper.update(palette=list(reversed(RdBu11)), low=-bound, high=bound)
        else:
            self.mapper.update(palette=Viridis256, low=low, high=high if high > low else low + 1)
        self.grid_src.data = data
        self.grid_fig.x_range.update(start=-GAP, end=cols * (1 + GAP))
        self.grid_fig.y_range.update(start=-GAP, end=rows * (1 + GAP))
        tile = 64 if cols <= 6 else (48 if cols <= 10 else 36)
        self.grid_fig.update(width=tile * cols + 70, height=tile * rows + 20)
        self.grid_fig.visible, self.bar_fig.visible = True, False
        more = f" (first {channels} of {out.shape[0]} shown)" if channels < out.shape[0] else ""
        filters = (" The first layer uses labelled classic detectors: hover a tile for its name."
                   if labels else "")
        self.caption.object = self._base = (f"<p><strong>{html(record.name)}</strong>: {out.shape[0]} channel"
                               f"{'s' if out.shape[0] > 1 else ''} of {out.shape[1]}×{out.shape[2]}{more}, one "
                               f"colour scale from {low:.3g} to {high:.3g}.{filters}</p>")

    def _draw_bars(self, record: LayerRecord, out: np.ndarray) -> None:
        final = self.analysis is not None and record.index == len(self.analysis.records) - 1
        values = self.maps.probabilities if final and self.maps and self.maps.probabilities is not None else out
        n = min(len(values), 256)
        self.bar_src.data = {"x": list(range(n)), "top": [float(v) for v in values[:n]],
                             "label": [f"{'class' if final else 'unit'} {i}" for i in range(n)]}
        self.grid_fig.visible, self.bar_fig.visible = False, True
        what = ("softmax probabilities of the logits. The weights are untrained, so these are near-uniform "
                "guesses, not predictions" if final else f"{len(values)} values" +
                (f" (first {n} shown)" if n < len(values) else ""))
        self.caption.object = self._base = f"<p><strong>{html(record.name)}</strong>: {html(what)}.</p>"

    # -- receptive field ---------------------------------------------------------------------------
    def _on_tap(self, event: Any) -> None:
        self.tap(event.x, event.y)

    def tap(self, x: float, y: float) -> tuple[float, float, float, float] | None:
        """A click at data (x, y) on the channel grid: outline that pixel's receptive field
        (for a merge or a block, the largest over its branches, from the analysis)."""
        record = self._record()
        if record is None or self.maps is None or len(record.output_shape) != 3:
            return None
        c, h, w = record.output_shape
        hit = tile_at(x, y, min(c, MAX_CHANNELS), h, w)
        if hit is None:
            return None
        try:
            return self.highlight(record, hit[1], hit[2])
        except Exception as exc:   # noqa: BLE001 - shown under the maps, not only in the console
            self.caption.object = self._base + busy_html(
                f"The receptive field could not be drawn ({exc.__class__.__name__}: {exc}).", spinner=False)
            return None

    def highlight(self, record: LayerRecord, row: int, col: int) -> tuple[float, float, float, float] | None:
        """Draw the receptive field of output pixel (row, col) on the input image."""
        box = rf_box(record, row, col)
        if box is None or self.maps is None:
            return None
        _, h, w = self.maps.image.shape
        top, left, bottom, right = box
        # Image rows are drawn bottom-up: input row r spans y in [h-1-r, h-r].
        clipped = (max(left, 0), min(right + 1, w), max(top, 0), min(bottom + 1, h))
        self.rf_src.data = {"left": [clipped[0]], "right": [clipped[1]], "top": [h - clipped[2]],
                            "bottom": [h - clipped[3]]}
        self.caption.object = self._base + (f"<p>Pixel ({row}, {col}) of {html(record.name)} sees input rows {top:g}…{bottom:g}, "
                                f"columns {left:g}…{right:g} (receptive field {record.receptive_field[0]}×"
                                f"{record.receptive_field[1]}, clipped to the image).</p>") if record.receptive_field else ""
        return box
