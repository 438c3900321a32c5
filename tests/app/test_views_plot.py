"""The diagram is a bare Bokeh Plot built without bokeh.plotting (docs/design.md §5): its
glyphs must be those bokeh.plotting.figure makes from the same arguments, which this test
uses as the oracle, and building the page must not import bokeh.plotting (nor numpy.random,
nor the model-text importer: modules for first use only)."""
from __future__ import annotations

import subprocess
import sys

from bokeh.plotting import figure

from explorer.analysis import analyse
from explorer.app.views import Views
from explorer.spec import default_network


def _oracle(v: Views) -> figure:
    """The drawing calls the diagram used to make through bokeh.plotting."""
    fig = figure(tools="")
    fig.segment(x0="x0", y0="y0", x1="x1", y1="y1", source=v.arrows, line_color="#666", line_width=1.5)
    fig.scatter(x="x1", y="y1", source=v.arrows, marker="triangle", angle="angle", size=8, color="#666")
    fig.bezier(x0="x0", y0="y0", x1="x1", y1="y1", cx0="cx0", cy0="cy0", cx1="cx1", cy1="cy1",
               source=v.arcs, line_color="#56b4e9", line_width=2)
    fig.rect(x="x", y="y", width="w", height="h", source=v.source, fill_color="colour", fill_alpha="alpha",
             line_color="colour", line_width=1, hover_line_color="#1f2328", hover_line_width=2,
             hover_fill_color="colour", hover_fill_alpha="alpha", selection_line_color="#1f2328",
             selection_line_width=3, selection_fill_color="colour", selection_fill_alpha="alpha",
             nonselection_fill_alpha="nalpha", nonselection_line_alpha=0.35, nonselection_fill_color="colour",
             nonselection_line_color="colour")
    for column, y, style in (("tname", "top", "bold"), ("tshape", "bottom", "normal")):
        fig.text(x="x", y=y, text=column, source=v.source, text_align="center",
                 text_baseline="bottom" if y == "top" else "top", text_font_size="11px", text_font_style=style,
                 text_color="#1f2328" if style == "bold" else "#57606a", nonselection_text_alpha=0.6)
    return fig


def _props(glyph) -> dict | str | None:
    if glyph is None or isinstance(glyph, str):
        return glyph
    return {type(glyph).__name__: {k: repr(val) for k, val in glyph.properties_with_values().items()}}


def test_the_diagram_draws_what_bokeh_plotting_would():
    v = Views(analyse(default_network()))
    ours, theirs = v.figure.renderers, _oracle(v).renderers
    assert len(ours) == len(theirs) == 6
    for mine, oracle in zip(ours, theirs):
        assert mine.data_source is oracle.data_source
        assert _props(mine.glyph) == _props(oracle.glyph)
        if mine.data_source is v.source:       # the only source a reader selects or hovers
            for variant in ("hover_glyph", "selection_glyph", "nonselection_glyph"):
                assert _props(getattr(mine, variant)) == _props(getattr(oracle, variant)), variant
    assert not v.figure.left and not v.figure.below and not v.figure.center   # no hidden axes or grids


def test_building_the_page_skips_the_modules_of_first_use():
    """bokeh.plotting and numpy.random cost about 0.2-0.3 s each of the Pyodide start-up, the
    importer of pasted models ~0.1 s; the feature maps and a pasted model (first use) may."""
    code = ("import sys; from explorer.app.page import Explorer; Explorer(live=True); "
            "print([m for m in ('bokeh.plotting', 'numpy.random', 'explorer.importer') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
