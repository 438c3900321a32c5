"""Random sequences of editor actions never raise and keep diagram, editor and feature view
on the same network and the same selected layer."""
from __future__ import annotations

import random

import pytest

pytest.importorskip("panel")

from explorer.app.page import Explorer  # noqa: E402
from explorer.presets import PRESETS  # noqa: E402
from explorer.spec import LAYER_TYPES  # noqa: E402

ACTIONS = ["select", "insert", "remove", "up", "down", "input", "preset", "exercise", "sample", "json", "tap"]


class Tap:
    def __init__(self, rng: random.Random) -> None:
        self.x, self.y = rng.uniform(0, 5), rng.uniform(0, 5)


def act(app: Explorer, rng: random.Random, action: str) -> None:
    editor, features = app.editor, app.features
    assert editor is not None and features is not None
    if action == "select":
        app.views.source.selected.indices = [rng.randrange(len(app.analysis.records))]
    elif action == "insert":
        editor.new_type.value = rng.choice(list(LAYER_TYPES))
        editor._insert()
    elif action == "remove":
        editor._remove()
    elif action == "up":
        editor._up()
    elif action == "down":
        editor._down()
    elif action == "input":
        editor.preset.value = rng.choice(["CIFAR-10 (3×32×32)", "MNIST (1×28×28)"])
    elif action == "preset":
        editor.network_preset.value = rng.choice(list(PRESETS))   # includes the broken one
    elif action == "exercise":
        editor._new_exercise()
    elif action == "sample":
        features.sample.value = rng.choice(list(features.sample.options))
    elif action == "json":
        editor._submit_text(app.network.dumps())
    else:
        features._on_tap(Tap(rng))


@pytest.mark.parametrize("seed", range(3))
def test_random_editing_sessions_stay_consistent(seed: int) -> None:
    rng = random.Random(seed)
    app = Explorer(live=True)
    for _ in range(60):
        action = rng.choice(ACTIONS)
        act(app, rng, action)
        rows = len(app.analysis.records)
        assert len(app.views.source.data["name"]) == rows, action
        assert app.selected is None or app.selected < rows, action
        assert app.features.index == app.selected == app.editor.index, action
