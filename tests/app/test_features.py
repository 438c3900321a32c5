"""Feature maps in the app: same numbers as the engine, receptive-field highlight, tiles."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("panel")

from explorer.analysis import analyse, rf_box  # noqa: E402
from explorer.app.featureview import GAP, FeatureView, grid_layout, tile_at  # noqa: E402
from explorer.app.page import Explorer  # noqa: E402
from explorer.features import compute  # noqa: E402
from explorer.spec import default_network  # noqa: E402


def test_conv2_grid_shows_its_64_channels_from_the_engine() -> None:
    app = Explorer(live=True)
    assert app.features is not None
    app.select("Conv2")
    data = app.features.grid_src.data
    assert len(data["image"]) == 64
    expected = compute(app.analysis, app.features.sample.value).outputs[5]
    for c in (0, 17, 63):
        np.testing.assert_array_equal(data["image"][c], expected[c][::-1])


def test_final_layer_shows_softmax_probabilities() -> None:
    app = Explorer(live=True)
    assert app.features is not None
    app.state.select(16)
    tops = app.features.bar_src.data["top"]
    assert len(tops) == 10 and sum(tops) == pytest.approx(1.0, abs=1e-5)
    assert app.features.bar_fig.visible and not app.features.grid_fig.visible


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
    view = app.features
    assert view is not None
    record = app.analysis.record("Conv3")
    box = view.highlight(record, 0, 0)
    assert box == rf_box(record, 0, 0) == (-7.0, -7.0, 10.0, 10.0)
    d = view.rf_src.data
    # Clipped to the 32×32 image, rows drawn bottom-up: rows 0..10 → y from 32 down to 21.
    assert (d["left"], d["right"], d["top"], d["bottom"]) == ([0], [11.0], [32], [21.0])
