"""Feature maps in the app: same numbers as the engine, receptive-field highlight, tiles."""
from __future__ import annotations

import numpy as np
import pytest

pn = pytest.importorskip("panel")

from explorer.analysis import analyse, rf_box  # noqa: E402
from explorer.app.featureview import GAP, FeatureView, grid_layout, tile_at  # noqa: E402
from explorer.app.page import Explorer  # noqa: E402
from explorer.features import compute  # noqa: E402
from explorer.spec import default_network  # noqa: E402


def test_conv2_grid_shows_its_64_channels_from_the_engine() -> None:
    app = Explorer(live=True)
    assert app.show_features() is not None
    app.select("Conv2")
    data = app.show_features().grid_src.data
    assert len(data["image"]) == 64
    expected = compute(app.analysis, app.show_features().sample.value).outputs[5]
    for c in (0, 17, 63):
        np.testing.assert_array_equal(data["image"][c], expected[c][::-1])


def test_final_layer_shows_softmax_probabilities() -> None:
    app = Explorer(live=True)
    assert app.show_features() is not None
    app.state.select(16)
    tops = app.show_features().bar_src.data["top"]
    assert len(tops) == 10 and sum(tops) == pytest.approx(1.0, abs=1e-5)
    assert app.show_features().bar_fig.visible and not app.show_features().grid_fig.visible


def test_changing_sample_changes_maps() -> None:
    view = FeatureView()
    view.show_network(analyse(default_network()))
    view.show_layer(1)
    before = view.grid_src.data["image"][0].copy()
    view.sample.value = "Vertical stripes"
    assert not np.array_equal(before, view.grid_src.data["image"][0])


@pytest.mark.parametrize("channels", [1, 3, 10, 64, 100])
def test_tile_at_inverts_the_grid_layout(channels: int) -> None:
    cols, rows = grid_layout(channels)
    h, w = 7, 5
    for c in range(channels):
        x0, y0 = (c % cols) * (1 + GAP), (rows - 1 - c // cols) * (1 + GAP)
        for r, col in ((0, 0), (h - 1, w - 1), (3, 2)):
            # centre of pixel (r, col): images are drawn bottom-up inside the tile
            x = x0 + (col + 0.5) / w
            y = y0 + 1 - (r + 0.5) / h
            assert tile_at(x, y, channels, h, w) == (c, r, col)
    assert tile_at(-0.05, 0.5, channels, h, w) is None


def test_highlight_draws_the_clipped_box_on_the_input() -> None:
    app = Explorer(live=True)
    view = app.show_features()
    assert view is not None
    record = app.analysis.record("Conv3")
    box = view.highlight(record, 0, 0)
    assert box == rf_box(record, 0, 0) == (-7.0, -7.0, 10.0, 10.0)
    d = view.rf_src.data
    # Clipped to the 32×32 image, rows drawn bottom-up: rows 0..10 → y from 32 down to 21.
    assert (d["left"], d["right"], d["top"], d["bottom"]) == ([0], [11.0], [32], [21.0])


def test_the_feature_view_is_built_on_first_use_for_the_network_and_layer_shown_then() -> None:
    """Start-up builds only a button (docs/design.md §5); the first click builds the view for
    the current network and selection, puts it in the page, and later clicks reuse it."""
    app = Explorer(live=True)
    assert app.features is None
    slot = app.features_slot
    assert slot is not None and slot in app.layout.objects
    button = next(o for o in slot.objects if isinstance(o, pn.widgets.Button))
    assert button.label == "Show feature maps"
    app.state.insert("conv2d")                 # an edit before the first use
    app.select("Conv2")
    button.clicks += 1                          # what a click in the browser does
    view = app.features
    assert view is not None and slot.objects == [view.layout]
    assert view.analysis is app.state.network and view.index == app.selected
    assert view.grid_src.data["image"]
    assert app.show_features() is view
    app.select("FC1")                           # and it follows the state from then on
    assert view.index == app.selected


def test_the_static_page_has_no_feature_button() -> None:
    app = Explorer(live=False)
    assert app.features_slot is None and app.show_features() is None


def _glyph(glyph) -> dict:
    return {type(glyph).__name__: {k: repr(v) for k, v in glyph.properties_with_values().items()}}


def test_the_feature_plots_draw_what_bokeh_plotting_would() -> None:
    """The three plots are bare Plots (no bokeh.plotting import on first use, docs/design.md
    §5); figure() with the arguments they used to be made with is the oracle."""
    from bokeh.models import ColorBar, Grid, HoverTool, LinearAxis
    from bokeh.plotting import figure

    v = FeatureView(None)
    oracle = figure(width=220, height=220, tools="", toolbar_location=None, match_aspect=True,
                    title="Input", x_axis_location=None, y_axis_location=None)
    oracle.image_rgba(image="image", x=0, y=0, dw="dw", dh="dh", source=v.input_src)
    oracle.quad(left="left", right="right", top="top", bottom="bottom", source=v.rf_src,
                fill_alpha=0.15, fill_color="#ffd33d", line_color="#d4a72c", line_width=2)
    grid = figure(height=360, width=400, tools="hover", toolbar_location=None, tooltips=[("channel", "@label")],
                  x_axis_location=None, y_axis_location=None, name="cnnx-feature-grid", min_border=4)
    grid.image(image="image", x="x", y="y", dw="dw", dh="dh", source=v.grid_src, color_mapper=v.mapper)
    bars = figure(height=220, sizing_mode="stretch_width", tools="hover", toolbar_location=None,
                  tooltips=[("", "@label: @top{0.000}")], visible=False)
    bars.vbar(x="x", top="top", width=0.8, source=v.bar_src, color="#cc79a7")
    for mine, theirs in ((v.input_fig, oracle), (v.grid_fig, grid), (v.bar_fig, bars)):
        assert [r.data_source for r in mine.renderers] == [r.data_source for r in theirs.renderers]
        assert [_glyph(r.glyph) for r in mine.renderers] == [_glyph(r.glyph) for r in theirs.renderers]
        for attr in ("width", "height", "sizing_mode", "match_aspect", "min_border", "name", "visible",
                     "toolbar_location"):
            assert getattr(mine, attr) == getattr(theirs, attr), attr
        assert ([t.tooltips for t in mine.toolbar.tools if isinstance(t, HoverTool)]
                == [t.tooltips for t in theirs.toolbar.tools if isinstance(t, HoverTool)])
    assert v.input_fig.title.text == "Input"
    assert [type(m) for m in v.grid_fig.right] == [ColorBar] and v.grid_fig.right[0].color_mapper is v.mapper
    assert not v.input_fig.center and not v.grid_fig.center      # figure()'s grids there were hidden
    assert [type(m) for m in v.bar_fig.below + v.bar_fig.left] == [LinearAxis, LinearAxis]
    assert [type(m) for m in v.bar_fig.center] == [Grid, Grid]


def test_the_feature_plots_follow_the_image_and_the_channel_grid() -> None:
    """The ranges fit the sample image and the tile grid of the selected layer."""
    app = Explorer(live=True)
    view = app.show_features()
    assert view is not None
    c, h, w = view.maps.image.shape
    assert (view.input_fig.x_range.end, view.input_fig.y_range.end) == (w, h)
    app.select("Conv2")
    cols, rows = grid_layout(64)
    assert view.grid_fig.x_range.end == pytest.approx(cols * (1 + GAP))
    assert view.grid_fig.y_range.end == pytest.approx(rows * (1 + GAP))


def test_showing_the_feature_maps_does_not_import_bokeh_plotting() -> None:
    import subprocess
    import sys

    code = ("import sys; from explorer.app.page import Explorer; Explorer(live=True).show_features(); "
            "print('bokeh.plotting' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
