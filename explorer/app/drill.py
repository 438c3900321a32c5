"""Every kind of user action, once, in a fixed order: a smoke drill of a live Explorer.

The site builder runs it in Pyodide after the app has rendered, so that the modules imported
by interactions (not only at start-up) are known before anything is stripped from the
browser's wheels; tests run it on the desktop. Each step goes through the same handlers the
widgets call, including the rejected inputs, which must leave the last valid network.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..presets import PRESETS as NETWORK_PRESETS
from ..samples import SAMPLES
from ..spec import LAYER_TYPES
from ..urlstate import encode_arch
from .editor import PRESETS as INPUT_PRESETS

if TYPE_CHECKING:
    from .page import Explorer

MODEL_TEXT = """Sequential(
  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (1): ReLU(inplace=True)
  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (3): Flatten(start_dim=1, end_dim=-1)
  (4): Linear(in_features=2048, out_features=10, bias=True)
)"""


class _Tap:
    """Stands in for a Bokeh Tap event on the feature grid (data coordinates)."""

    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y


def drill(app: Explorer) -> list[str]:
    """Run every action against `app`; returns the names of the steps run, in order."""
    editor, features = app.editor, app.features
    if editor is None or features is None:
        raise ValueError("the drill needs a live Explorer (editor and feature view)")
    done: list[str] = []

    def step(name: str) -> None:
        done.append(name)

    for index in range(len(app.analysis.records)):
        app.views.source.selected.indices = [index]
        features._on_tap(_Tap(0.5, 0.5))
    step("select every layer and tap its feature grid")
    for value in features.filters.options:
        features.filters.value = value
    for name in SAMPLES:
        features.sample.value = name
    step("every filter bank and sample image")

    app.views.source.selected.indices = [1]
    for kind in LAYER_TYPES:
        editor.new_type.value = kind
        editor._insert()
        editor._remove()
    step("insert and remove every layer type")
    editor._down()
    editor._up()
    step("move a layer down and up")
    for preset in INPUT_PRESETS:
        editor.preset.value = preset
    step("every input preset")
    for preset in NETWORK_PRESETS:
        editor.network_preset.value = preset
    step("every network preset")
    editor._new_exercise()
    editor._reset()
    step("new exercise, reset")

    editor._submit_text(app.network.dumps())
    editor._submit_text("{not json")
    editor._submit_text(json.dumps({"input": {"channels": 3, "height": 8, "width": 8},
                                     "layers": [{"type": "conv2d", "out_channels": 4, "kernel_size": 9}]}))
    editor._submit_text(json.dumps({"input": {"channels": 3, "height": 32, "width": 32},
                                     "layers": [{"type": "warp"}]}))
    step("JSON: valid, malformed, kernel too large, unknown type")
    editor.upload.value = app.network.dumps().encode("utf-8")
    editor.upload.value = b"\xff\xfe"
    step("upload: valid and not UTF-8")
    editor.model_text.value = MODEL_TEXT
    editor._import_model()
    editor.model_text.value = "os.system('rm -rf /')"
    editor._import_model()
    editor._reset()
    step("import print(model): valid and hostile")

    app.load_fragment("#layer=Conv2&arch=" + encode_arch(app.network) + "&hide=editor")
    app.load_fragment("#arch=%%%not-base64&layer=nope")
    step("URL fragment: valid and corrupted")
    return done
