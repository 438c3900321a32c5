"""Failure paths of the live page: bounded work, failures shown in place, last valid network kept."""
from __future__ import annotations

import base64
import json

import pytest

pn = pytest.importorskip("panel")

from explorer import features  # noqa: E402
from explorer.analysis import analyse  # noqa: E402
from explorer.app import featureview  # noqa: E402
from explorer.app.page import Explorer  # noqa: E402
from explorer.features import BROWSER, Budget, forward_cost, skip_reason  # noqa: E402
from explorer.spec import from_json  # noqa: E402
from explorer.text import MAX_JSON_CHARS  # noqa: E402

BIG = {"name": "Big", "input": {"channels": 3, "height": 512, "width": 512},
       "layers": [{"type": "conv2d", "out_channels": 256, "kernel_size": 3, "padding": 1},
                  {"type": "conv2d", "out_channels": 256, "kernel_size": 3, "padding": 1}]}


def small(out_channels: int = 4) -> dict:
    return {"name": "Small", "input": {"channels": 3, "height": 8, "width": 8},
            "layers": [{"type": "conv2d", "out_channels": out_channels, "kernel_size": 3}, {"type": "relu"}]}


def state(app: Explorer) -> tuple:
    """What the page shows, from every part: diagram, nav, table, editor, features, URL."""
    from explorer.urlstate import encode_arch
    assert app.url_sink.text in ("", encode_arch(app.network))   # the URL never names another network
    return (tuple(app.views.source.data["name"]), app.views.nav.text, app.views.table.text,
            app.editor.json.value, app.show_features().analysis.network if app.show_features().analysis else None)


def test_skip_reason_names_gmacs_and_the_limit() -> None:
    analysis = analyse(from_json(BIG))
    macs, _ = forward_cost(analysis)
    assert macs == analysis.total_macs > BROWSER.max_macs
    reason = skip_reason(analysis, BROWSER)
    assert reason is not None and reason.startswith("Feature maps skipped: this network needs ")
    assert f"{macs / 1e9:,.1f} GMACs" in reason and "more than the browser can compute here" in reason
    assert skip_reason(analyse(from_json(small())), BROWSER) is None


def test_memory_budget_counts_the_im2col_buffer() -> None:
    analysis = analyse(from_json(small(8)))
    _, nbytes = forward_cost(analysis)
    im2col = 3 * 3 * 3 * 6 * 6 * 4
    assert nbytes == analysis.total_activation_bytes + im2col
    tight = Budget("the browser", 10**12, nbytes - 1, 1e9, 0.01)
    assert "MiB for its forward pass" in skip_reason(analysis, tight)


def test_over_budget_network_updates_everything_but_the_feature_maps(monkeypatch) -> None:
    monkeypatch.setattr(features, "current_budget", lambda: BROWSER)
    app = Explorer(live=True)
    app.select("Conv1")
    app.state.select(1)
    assert app.show_features().grid_src.data["image"]
    assert app.apply_json(BIG) is None
    assert app.views.source.data["name"][1] == "Conv1" and app.network.name == "Big"
    assert "Feature maps skipped" in app.show_features().caption.object and "GMACs" in app.show_features().caption.object
    assert app.show_features().grid_src.data["image"] == [] and app.show_features().maps is None
    app.show_features().show_layer(1)   # selecting a layer keeps the reason on screen
    assert "Feature maps skipped" in app.show_features().caption.object


def test_a_failing_forward_pass_is_shown_and_leaves_no_stale_maps(monkeypatch) -> None:
    app = Explorer(live=True)
    app.select("Conv1")
    app.state.select(1)
    assert app.show_features().grid_src.data["image"]

    def boom(*_a, **_k):
        raise MemoryError("array is too big")
    monkeypatch.setattr(featureview, "compute", boom)
    assert app.apply_json(small()) is None
    assert app.network.name == "Small"
    assert "Feature maps could not be computed" in app.show_features().caption.object
    assert "array is too big" in app.show_features().caption.object
    assert app.show_features().grid_src.data["image"] == [] and app.show_features().maps is None


def test_any_failure_while_showing_restores_the_last_valid_network(monkeypatch) -> None:
    app = Explorer(live=True)
    before = state(app)
    real = app.views.update

    def update(analysis, selected):
        if analysis.network.name == "Small":
            real(analysis, selected)      # half-way: the diagram already changed
            raise RuntimeError("the table broke")
        real(analysis, selected)
    monkeypatch.setattr(app.views, "update", update)
    message = app.apply_json(small())
    assert message is not None and "unchanged" in message
    assert state(app) == before
    assert "RuntimeError: the table broke" in app.notice.object and 'role="alert"' in app.notice.object


def test_any_exception_while_validating_is_shown_not_raised(monkeypatch) -> None:
    app = Explorer(live=True)
    before = state(app)
    monkeypatch.setattr("explorer.app.state.analyse", lambda _n: (_ for _ in ()).throw(RecursionError("deep")))
    message = app.apply_json(small())
    assert message is not None and "RecursionError" in message
    assert "RecursionError" in app.editor.error.object
    assert state(app) == before


def test_a_hostile_link_leaves_the_page_working() -> None:
    app = Explorer(live=True)
    before = state(app)
    nested = base64.urlsafe_b64encode(("[" * 8000).encode()).decode().rstrip("=")
    app.load_fragment(f"arch={nested}")
    assert "nested more than" in app.notice.object
    huge = json.dumps({"name": "x", "input": {"channels": 1, "height": 46340, "width": 46340},
                       "layers": [{"type": "relu"}]})
    app.load_fragment("arch=" + base64.urlsafe_b64encode(huge.encode()).decode().rstrip("="))
    assert "GiB" in app.notice.object
    assert state(app) == before
    assert app.apply_json(small()) is None   # and Python still answers


def test_json_box_takes_what_the_parser_takes_and_bounds_the_rest() -> None:
    app = Explorer(live=True)
    editor = app.editor
    assert editor.json.max_length == MAX_JSON_CHARS and editor.model_text.max_length >= MAX_JSON_CHARS
    layers = [{"type": "conv2d", "out_channels": 4, "kernel_size": 1, "padding": 0}, {"type": "relu"}] * 40
    text = "\ufeff" + json.dumps({"name": "Eighty", "input": {"channels": 3, "height": 8, "width": 8},
                                  "layers": layers}, indent=2)
    assert len(text) > 5_000
    app.state.load_json(text)
    assert app.network.name == "Eighty" and len(app.network.layers) == 80
    app.state.load_json(json.dumps(small()).replace('"channels": 3', '"channels": ' + "9" * 4400))
    assert "4,400 digits" in editor.error.object and app.network.name == "Eighty"
    app.state.load_json("[" * 8000)
    assert "nested more than" in editor.error.object and app.network.name == "Eighty"


def test_hashchange_hands_a_new_network_to_python() -> None:
    """The page's JS writes a changed fragment into the hidden "cnnx-url-in" Div (on_ready.js)."""
    from explorer.urlstate import encode_arch
    app = Explorer(live=True)
    app.url_source.text = "#layer=Conv1&arch=" + encode_arch(from_json(small(6)))
    assert app.network.name == "Small" and app.network.layers[0].out_channels == 6
    assert app.url_sink.text == encode_arch(app.network)


def test_a_stale_selection_from_the_browser_is_put_back() -> None:
    """The browser selected row 5 of the previous network after Python showed a 3-row one."""
    app = Explorer(live=True)
    assert app.apply_json(small()) is None
    app.select("Conv1")
    app.state.select(1)
    app.views.source.selected.indices = [5]          # what the browser's late message does
    assert app.views.source.selected.indices == [1]
    assert app.editor.index == 1 and app.show_features().index == 1


def test_a_long_update_says_so_first_and_a_newer_one_wins(monkeypatch) -> None:
    from explorer.app import page as page_module
    pending = []
    monkeypatch.setattr(page_module, "run_soon", lambda callback: pending.append(callback) or True)
    app = Explorer(live=True)
    long = {"name": "Long", "input": {"channels": 1, "height": 4, "width": 4},
            "layers": [{"type": "relu"}] * 400}
    assert app.apply_json(long) is None
    assert "Working: showing “Long” (400 layers)" in app.busy.object and 'role="status"' in app.busy.object
    assert app.network.name == "CIFAR-10 CNN"          # not yet: the message goes out first
    pending.pop()()
    assert app.network.name == "Long" and app.busy.object == ""
    assert len(app.views.source.data["name"]) == 401
    # two long updates in a row: only the newer one is shown
    assert app.apply_json({**long, "name": "First"}) is None
    assert app.apply_json({**long, "name": "Second"}) is None
    for callback in pending:
        callback()
    assert app.network.name == "Second"


def test_a_failure_while_selecting_is_shown_on_the_page(monkeypatch) -> None:
    app = Explorer(live=True)
    monkeypatch.setattr(app.show_features(), "show_layer", lambda _i: (_ for _ in ()).throw(ValueError("no maps")))
    app.select("Conv2")
    assert "ValueError: no maps" in app.notice.object and 'role="alert"' in app.notice.object
