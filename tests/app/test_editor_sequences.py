"""Random sequences of editor actions never raise and keep diagram, layer tree, card, table,
editor and feature view on the same network and the same selected node, for flat networks
and for graph networks (blocks, parallels, palette pieces)."""
from __future__ import annotations

import random
import re
from html import unescape

import pytest

pytest.importorskip("panel")

from explorer.app.page import Explorer  # noqa: E402
from explorer.palette import PIECES  # noqa: E402
from explorer.presets import PRESETS  # noqa: E402
from explorer.spec import LAYER_TYPES  # noqa: E402

ACTIONS = ["select", "insert", "remove", "up", "down", "input", "preset", "exercise", "sample", "json", "tap"]
GRAPH_ACTIONS = ["select", "select", "insert", "piece", "piece", "remove", "up", "down", "field", "json", "tap",
                 "sample"]
SMALL_GRAPHS = ["Small Inception-style net (3×32×32)", "DenseNet-style (3×32×32)", "CIFAR-10 CNN (default)"]


def act(app: Explorer, rng: random.Random, action: str) -> None:
    state, editor, features = app.state, app.editor, app.show_features()
    assert editor is not None and features is not None
    if action == "select":
        app.views.source.selected.indices = [rng.randrange(len(app.analysis.records))]
    elif action == "insert":
        editor.new_type.value = rng.choice(list(LAYER_TYPES))
        editor.insert.clicks += 1
    elif action == "piece":
        editor.piece.value = rng.choice(list(PIECES))
        editor.insert_piece.clicks += 1
    elif action == "remove":
        editor.remove.clicks += 1
    elif action == "up":
        editor.up.clicks += 1
    elif action == "down":
        editor.down.clicks += 1
    elif action == "field":
        try:
            widget = editor.widget(rng.choice(["out_channels", "kernel_size", "padding", "stride"]))
        except KeyError:
            return
        widget.value = (rng.choice([4, 8, 12]) if isinstance(widget.value, int)
                        else rng.choice(["1", "3", "2", "0", "5"]))
    elif action == "input":
        editor.preset.value = rng.choice(["CIFAR-10 (3×32×32)", "MNIST (1×28×28)"])
    elif action == "preset":
        editor.network_preset.value = rng.choice([p for p in PRESETS if "ImageNet" not in p
                                                  and "MobileNet" not in p])   # includes the broken one
    elif action == "exercise":
        state.new_exercise()
    elif action == "sample":
        features.sample.value = rng.choice(list(features.sample.options))
    elif action == "json":
        state.load_json(app.network.dumps())
    else:
        features.tap(rng.uniform(0, 5), rng.uniform(0, 5))


def check(app: Explorer, action: str) -> None:
    state = app.state
    records = state.network.records
    rows = len(records)
    assert app.views.source.data["name"] == [r.name for r in records], action
    assert app.selected is None or app.selected < rows, action
    assert app.show_features().index == app.selected == app.editor.index, action
    assert app.show_features().analysis is state.network, action
    nav = unescape(re.sub(r"<[^>]+>", " ", app.views.nav.text))
    assert all(r.name in nav for r in records[1:]), action              # the layer buttons / tree
    table = unescape(re.sub(r"<[^>]+>", " ", app.views.table.text))
    assert f"{state.network.total_params:,}" in table, action
    assert app.editor.json.value == state.network.network.dumps(), action
    if app.selected not in (None, 0) and records[app.selected].is_leaf:
        assert app.editor.widget("name").value == records[app.selected].name, action


@pytest.mark.parametrize("seed", range(3))
def test_random_editing_sessions_stay_consistent(seed: int) -> None:
    rng = random.Random(seed)
    app = Explorer(live=True)
    for _ in range(60):
        action = rng.choice(ACTIONS)
        act(app, rng, action)
        check(app, action)


@pytest.mark.parametrize("seed", range(3))
def test_random_graph_editing_sessions_stay_consistent(seed: int) -> None:
    rng = random.Random(100 + seed)
    app = Explorer(live=True)
    assert app.state.load_preset(SMALL_GRAPHS[seed]) is None
    graphs = 0
    for _ in range(40):
        action = rng.choice(GRAPH_ACTIONS)
        act(app, rng, action)
        check(app, action)
        graphs += not app.network.is_flat
    assert graphs > 20     # the session really edited graph networks
