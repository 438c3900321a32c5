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
