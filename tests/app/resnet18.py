"""ResNet-18 (torchvision's module paths) as the core's graph JSON, written out by hand.

For the page's view-model and end-to-end tests: stem (conv1, bn1, relu, maxpool), layer1…layer4
of two BasicBlocks each (a 1×1 projection `downsample` where the shape changes), head
(avgpool, flatten, fc). 11,689,512 parameters at 3×224×224 with 1,000 classes.
"""
from __future__ import annotations

import json
from typing import Any


def _conv(name: str, out: int, k: int, stride: int = 1) -> dict[str, Any]:
    return {"type": "conv2d", "name": name, "out_channels": out, "kernel_size": k, "stride": stride,
            "padding": k // 2, "bias": False}


def _basic(name: str, c_in: int, c_out: int, stride: int) -> dict[str, Any]:
    main = [_conv(f"{name}.conv1", c_out, 3, stride), {"type": "batchnorm2d", "name": f"{name}.bn1"},
            {"type": "relu", "name": f"{name}.relu"}, _conv(f"{name}.conv2", c_out, 3),
            {"type": "batchnorm2d", "name": f"{name}.bn2"}]
    shortcut: list[dict[str, Any]] = []
    if stride != 1 or c_in != c_out:
        shortcut = [{"type": "block", "name": f"{name}.downsample", "layers": [
            _conv(f"{name}.downsample.0", c_out, 1, stride), {"type": "batchnorm2d", "name": f"{name}.downsample.1"}]}]
    return {"type": "block", "name": name, "module": "BasicBlock", "layers": [
        {"type": "parallel", "name": f"{name}.add", "merge": "add", "branches": [main, shortcut]},
        {"type": "relu", "name": f"{name}.relu_out"}]}


def resnet18(size: int = 224, classes: int = 1000) -> dict[str, Any]:
    layers: list[dict[str, Any]] = [
        _conv("conv1", 64, 7, 2), {"type": "batchnorm2d", "name": "bn1"}, {"type": "relu", "name": "relu"},
        {"type": "maxpool2d", "name": "maxpool", "kernel_size": 3, "stride": 2, "padding": 1}]
    c = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        stride = 1 if stage == 1 else 2
        blocks = [_basic(f"layer{stage}.0", c, width, stride), _basic(f"layer{stage}.1", width, width, 1)]
        layers.append({"type": "block", "name": f"layer{stage}", "layers": blocks})
        c = width
    layers += [{"type": "adaptive_avgpool2d", "name": "avgpool", "output_size": 1},
               {"type": "flatten", "name": "flatten"}, {"type": "linear", "name": "fc", "out_features": classes}]
    return {"name": "ResNet-18", "input": {"channels": 3, "height": size, "width": size}, "layers": layers}


if __name__ == "__main__":   # python tests/app/resnet18.py > resnet18.json
    print(json.dumps(resnet18(), indent=1))
