"""The smoke drill (every user action once) runs on the desktop and leaves a consistent app;
the site builder runs the same drill in Pyodide to learn what interactions import."""
from __future__ import annotations

import pytest

pytest.importorskip("panel")

from explorer.app.drill import drill  # noqa: E402
from explorer.app.page import Explorer  # noqa: E402
from explorer.spec import default_network  # noqa: E402


def test_drill_runs_every_step_and_keeps_a_valid_network() -> None:
    app = Explorer(live=True)
    steps = drill(app)
    assert len(steps) == 12 and len(set(steps)) == 12
    assert "could not be loaded" in app.notice.object   # the corrupted link, said so
    # the rejected inputs at the end left the last valid (default, after the fragment) network
    assert app.network.to_json() == default_network().to_json()
    rows = len(app.analysis.records)
    assert len(app.views.source.data["name"]) == rows
    assert app.show_features().index == app.selected == app.editor.index


def test_drill_needs_a_live_app() -> None:
    with pytest.raises(ValueError, match="live Explorer"):
        drill(Explorer(live=False))
