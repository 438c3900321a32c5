"""ResNet architectures written as graph JSON by hand, named by torchvision's module paths.

Used by the torchvision cross-check and by bench/graph.py. BasicBlock (ResNet-18/34) and
Bottleneck (ResNet-50/101/152) follow torchvision.models.resnet: the stride sits on the
3×3 convolution, a projection shortcut (`downsample`: 1×1 conv + BN) where the shape
changes, and one ReLU module called twice (here two nodes: `relu` and `relu_2`, which
hold no parameters, so the state_dict is unchanged).
"""
from __future__ import annotations

from typing import Any

DEPTHS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3)),
          101: ("bottleneck", (3, 4, 23, 3)), 152: ("bottleneck", (3, 8, 36, 3))}


def _conv(name: str, out: int, k: int, stride: int = 1) -> dict[str, Any]:
    layer: dict[str, Any] = {"type": "conv2d", "name": name, "out_channels": out, "kernel_size": k, "bias": False}
    if stride != 1:
        layer["stride"] = stride
    if k == 3:
        layer["padding"] = 1
    return layer


def _bn(name: str) -> dict[str, Any]:
    return {"type": "batchnorm2d", "name": name}


def _unit(name: str, kind: str, c_in: int, width: int, stride: int) -> tuple[dict[str, Any], int]:
    if kind == "basic":
        out = width
        body = [_conv(f"{name}.conv1", width, 3, stride), _bn(f"{name}.bn1"), {"type": "relu", "name": f"{name}.relu"},
                _conv(f"{name}.conv2", width, 3), _bn(f"{name}.bn2")]
    else:
        out = width * 4
        body = [_conv(f"{name}.conv1", width, 1), _bn(f"{name}.bn1"), {"type": "relu", "name": f"{name}.relu"},
                _conv(f"{name}.conv2", width, 3, stride), _bn(f"{name}.bn2"),
                {"type": "relu", "name": f"{name}.relu_2"},
                _conv(f"{name}.conv3", out, 1), _bn(f"{name}.bn3")]
    shortcut = [] if stride == 1 and c_in == out else [{"type": "block", "name": f"{name}.downsample", "layers": [
        _conv(f"{name}.downsample.0", out, 1, stride), _bn(f"{name}.downsample.1")]}]
    return {"type": "block", "name": name, "module": "BasicBlock" if kind == "basic" else "Bottleneck", "layers": [
        {"type": "parallel", "name": f"{name}.add", "merge": "add", "branches": [body, shortcut]},
        {"type": "relu", "name": f"{name}.relu_out"}]}, out


def resnet(depth: int = 18, size: int = 224, classes: int = 1000) -> dict[str, Any]:
    """torchvision's resnet{depth} as graph JSON for a 3×size×size input."""
    kind, counts = DEPTHS[depth]
    layers: list[dict[str, Any]] = [_conv("conv1", 64, 7, 2) | {"padding": 3}, _bn("bn1"),
                                    {"type": "relu", "name": "relu"},
                                    {"type": "maxpool2d", "name": "maxpool", "kernel_size": 3, "stride": 2,
                                     "padding": 1}]
    c = 64
    for stage, (count, width) in enumerate(zip(counts, (64, 128, 256, 512)), start=1):
        units = []
        for i in range(count):
            unit, c = _unit(f"layer{stage}.{i}", kind, c, width, 2 if i == 0 and stage > 1 else 1)
            units.append(unit)
        layers.append({"type": "block", "name": f"layer{stage}", "layers": units})
    layers += [{"type": "adaptive_avgpool2d", "name": "avgpool", "output_size": 1},
               {"type": "flatten", "name": "flatten"}, {"type": "linear", "name": "fc", "out_features": classes}]
    return {"name": f"ResNet-{depth}", "input": {"channels": 3, "height": size, "width": size}, "layers": layers}
