"""Every kind of user action, once, in a fixed order: a smoke drill of a live Explorer.

The site builder runs it in Pyodide after the app has rendered, so that the modules imported
by interactions (not only at start-up) are known before anything is stripped from the
browser's wheels; tests run it on the desktop. Each step goes through the state's public
actions (what the buttons call) or sets a widget's value, including the rejected inputs,
which must leave the last valid network.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..palette import PIECES
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

# A small torchvision-style print-out with a residual block (what print(model) shows).
RESNET_TEXT = """ResNet(
  (conv1): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
  (bn1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (relu): ReLU(inplace=True)
  (maxpool): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
  (layer1): Sequential(
    (0): BasicBlock(
      (conv1): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
      (bn1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
      (relu): ReLU(inplace=True)
      (conv2): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
      (bn2): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    )
  )
  (layer2): Sequential()
  (layer3): Sequential()
  (layer4): Sequential()
  (avgpool): AdaptiveAvgPool2d(output_size=(1, 1))
  (fc): Linear(in_features=8, out_features=10, bias=True)
)"""

def drill(app: Explorer) -> list[str]:
    """Run every action against `app`; returns the names of the steps run, in order."""
    state, editor = app.state, app.editor
    features = app.show_features()        # the "Show feature maps" button
    if editor is None or features is None:
        raise ValueError("the drill needs a live Explorer (editor and feature view)")
    done: list[str] = []

    def step(name: str) -> None:
        done.append(name)

    for index in range(len(app.analysis.records)):
        app.views.source.selected.indices = [index]     # as a click in the browser does
        features.tap(0.5, 0.5)
    step("select every layer and tap its feature grid")
    for value in features.filters.options:
        features.filters.value = value
    for name in SAMPLES:
        features.sample.value = name
    step("every filter bank and sample image")

    state.select(1)
    for kind in LAYER_TYPES:
        state.insert(kind)
        state.remove()
    step("insert and remove every layer type")
    state.move(offset=+1)
    state.move(offset=-1)
    step("move a layer down and up")
    for preset in INPUT_PRESETS:
        editor.preset.value = preset
    step("every input preset")
    for preset in NETWORK_PRESETS:
        editor.network_preset.value = preset
    step("every network preset")
    state.new_exercise()
    state.reset()
    step("new exercise, reset")

    state.select("Conv1")
    for piece in PIECES:                             # small graph: every piece after Conv1, stacked
        state.insert(piece)
    inner = next(r for r in app.analysis.records if r.path and r.type == "conv2d")
    state.select(inner.name)
    editor.widget("out_channels").value = 24         # a layer inside a block
    merge = next(r for r in app.analysis.records if r.category == "merge")
    state.select(merge.name)
    features.tap(0.5, 0.5)
    block = next(r for r in app.analysis.records if r.type == "block")
    state.select(block.name)
    state.move(offset=+1)
    state.remove()
    broken = app.network.to_json()
    broken["layers"].insert(1, {"type": "parallel", "merge": "add", "branches": [
        [{"type": "conv2d", "out_channels": 5, "kernel_size": 1}], []]})
    state.apply_json(broken)                         # shapes differ at the add: explained, network kept
    teaching = app.teaching
    if teaching is not None:
        for value in teaching.reduction.options:
            teaching.reduction.value = value
    state.reset()
    step("graph: edit inside a block, every palette piece, move and remove blocks, broken merge, comparisons")

    state.load_json(app.network.dumps())
    state.load_json("{not json")
    state.load_json(json.dumps({"input": {"channels": 3, "height": 8, "width": 8},
                                "layers": [{"type": "conv2d", "out_channels": 4, "kernel_size": 9}]}))
    state.load_json(json.dumps({"input": {"channels": 3, "height": 32, "width": 32},
                                "layers": [{"type": "warp"}]}))
    step("JSON: valid, malformed, kernel too large, unknown type")
    editor.upload.value = app.network.dumps().encode("utf-8")
    editor.upload.value = b"\xff\xfe"
    step("upload: valid and not UTF-8")
    state.import_text(MODEL_TEXT, "3x16x16")
    state.import_text(RESNET_TEXT, "3x32x32")
    state.import_text("os.system('rm -rf /')", "3x32x32")
    state.reset()
    step("import print(model): flat, graph and hostile")

    app.load_fragment("#layer=Conv2&arch=" + encode_arch(app.network) + "&hide=editor")
    app.load_fragment("#arch=%%%not-base64&layer=nope")
    step("URL fragment: valid and corrupted")
    return done
