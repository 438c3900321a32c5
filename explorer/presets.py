"""Preset networks for teaching: the seed CNN and a few classics, plus one broken on purpose.

The graph presets (ResNet-18, MobileNetV2, Inception-style, DenseNet-style) use torchvision's
module paths as names and its classes as block modules (docs/design.md §7), so their counts and
generated code can be checked against the torch modules (tests/unit/test_graph_presets.py).
"""
from __future__ import annotations

import copy
from typing import Any

from .spec import DEFAULT_JSON, Network, from_json


def _conv(c: int, k: int = 3, **kw: Any) -> dict[str, Any]:
    return {"type": "conv2d", "out_channels": c, "kernel_size": k, **kw}


_BN, _RELU, _FLAT = {"type": "batchnorm2d"}, {"type": "relu"}, {"type": "flatten"}


def _vgg_block(c: int) -> list[dict[str, Any]]:
    return [_conv(c, padding=1), _BN, _RELU, _conv(c, padding=1), _BN, _RELU,
            {"type": "maxpool2d", "kernel_size": 2, "stride": 2}]


def _named(node: dict[str, Any], name: str) -> dict[str, Any]:
    return {**node, "name": name}


def _cbr(path: str, c: int, k: int, stride: int = 1, *, act: str = "relu", groups: int = 1,
         module: str = "Conv2dNormActivation") -> dict[str, Any]:
    """torchvision's Conv2dNormActivation: conv (no bias), BatchNorm, activation as path.0/.1/.2."""
    return {"type": "block", "name": path, "module": module, "layers": [
        _named(_conv(c, k, stride=stride, padding=(k - 1) // 2, groups=groups, bias=False), f"{path}.0"),
        _named(_BN, f"{path}.1"), _named({"type": act}, f"{path}.2")]}


def _basic_block(path: str, planes: int, stride: int, downsample: bool) -> dict[str, Any]:
    """torchvision's BasicBlock: conv-bn-relu-conv-bn plus the shortcut, added, then relu."""
    body = [_named(_conv(planes, 3, stride=stride, padding=1, bias=False), f"{path}.conv1"),
            _named(_BN, f"{path}.bn1"), _named(_RELU, f"{path}.relu"),
            _named(_conv(planes, 3, padding=1, bias=False), f"{path}.conv2"), _named(_BN, f"{path}.bn2")]
    shortcut = ([{"type": "block", "name": f"{path}.downsample", "layers": [
        _named(_conv(planes, 1, stride=stride, bias=False), f"{path}.downsample.0"),
        _named(_BN, f"{path}.downsample.1")]}] if downsample else [])
    return {"type": "block", "name": path, "module": "BasicBlock", "layers": [
        {"type": "parallel", "name": f"{path}.add", "merge": "add", "branches": [body, shortcut]},
        _named(_RELU, f"{path}.relu#2")]}


def resnet18(*, cifar: bool) -> dict[str, Any]:
    """ResNet-18: for CIFAR-10 a 3×3 stem without max-pool (11,173,962 parameters); for
    ImageNet torchvision's resnet18() (7×7 stride-2 stem, max-pool, 1000 classes; 11,689,512)."""
    stem = ([_named(_conv(64, 3, padding=1, bias=False), "conv1"), _named(_BN, "bn1"), _named(_RELU, "relu")]
            if cifar else
            [_named(_conv(64, 7, stride=2, padding=3, bias=False), "conv1"), _named(_BN, "bn1"),
             _named(_RELU, "relu"), _named({"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1},
                                           "maxpool")])
    stages, inplanes = [], 64
    for i, planes in enumerate((64, 128, 256, 512), start=1):
        stride = 1 if i == 1 else 2
        blocks = [_basic_block(f"layer{i}.0", planes, stride, stride != 1 or inplanes != planes),
                  _basic_block(f"layer{i}.1", planes, 1, False)]
        stages.append({"type": "block", "name": f"layer{i}", "layers": blocks})
        inplanes = planes
    size = 32 if cifar else 224
    return {"name": f"ResNet-18 ({'CIFAR-10' if cifar else 'ImageNet'})",
            "input": {"channels": 3, "height": size, "width": size},
            "layers": [*stem, *stages, _named({"type": "adaptive_avgpool2d", "output_size": 1}, "avgpool"),
                       _named(_FLAT, "flatten"),
                       _named({"type": "linear", "out_features": 10 if cifar else 1000}, "fc")]}


def _inverted_residual(path: str, inp: int, oup: int, stride: int, expand: int) -> dict[str, Any]:
    """torchvision's InvertedResidual: 1×1 expand (unless t = 1), 3×3 depthwise, 1×1 linear
    projection; the input is added when stride is 1 and channels match."""
    hidden = inp * expand
    body, i = [], 0
    if expand != 1:
        body.append(_cbr(f"{path}.conv.{i}", hidden, 1, act="relu6"))
        i += 1
    body += [_cbr(f"{path}.conv.{i}", hidden, 3, stride, act="relu6", groups=hidden),
             _named(_conv(oup, 1, bias=False), f"{path}.conv.{i + 1}"), _named(_BN, f"{path}.conv.{i + 2}")]
    conv = {"type": "block", "name": f"{path}.conv", "layers": body}
    inner = ([{"type": "parallel", "name": f"{path}.add", "merge": "add", "branches": [[conv], []]}]
             if stride == 1 and inp == oup else [conv])
    return {"type": "block", "name": path, "module": "InvertedResidual", "layers": inner}


def mobilenet_v2(classes: int = 10, size: int = 32) -> dict[str, Any]:
    """torchvision's mobilenet_v2(num_classes=10), width 1.0, on a CIFAR-sized input."""
    settings = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))
    features, inp, idx = [_cbr("features.0", 32, 3, 2, act="relu6")], 32, 1
    for t, c, n, s in settings:
        for j in range(n):
            features.append(_inverted_residual(f"features.{idx}", inp, c, s if j == 0 else 1, t))
            inp, idx = c, idx + 1
    features.append(_cbr(f"features.{idx}", 1280, 1, act="relu6"))
    return {"name": "MobileNetV2", "input": {"channels": 3, "height": size, "width": size},
            "layers": [{"type": "block", "name": "features", "layers": features},
                       _named({"type": "adaptive_avgpool2d", "output_size": 1}, "avgpool"),
                       _named(_FLAT, "flatten"),
                       {"type": "block", "name": "classifier", "layers": [
                           _named({"type": "dropout", "p": 0.2}, "classifier.0"),
                           _named({"type": "linear", "out_features": classes}, "classifier.1")]}]}


def _basic_conv(path: str, c: int, k: int, padding: int = 0) -> dict[str, Any]:
    """GoogLeNet's BasicConv2d: conv (no bias), BatchNorm (eps 0.001), ReLU in forward()."""
    return {"type": "block", "name": path, "module": "BasicConv2d", "layers": [
        _named(_conv(c, k, padding=padding, bias=False), f"{path}.conv"),
        _named({"type": "batchnorm2d", "eps": 0.001}, f"{path}.bn"), _named(_RELU, f"{path}.relu")]}


def _inception(path: str, c1: int, c3r: int, c3: int, c5r: int, c5: int, pool: int) -> dict[str, Any]:
    """GoogLeNet's Inception module: four branches concatenated along channels."""
    branches = [[_basic_conv(f"{path}.branch1", c1, 1)],
                [{"type": "block", "name": f"{path}.branch2", "layers": [
                    _basic_conv(f"{path}.branch2.0", c3r, 1), _basic_conv(f"{path}.branch2.1", c3, 3, 1)]}],
                [{"type": "block", "name": f"{path}.branch3", "layers": [
                    _basic_conv(f"{path}.branch3.0", c5r, 1), _basic_conv(f"{path}.branch3.1", c5, 3, 1)]}],
                [{"type": "block", "name": f"{path}.branch4", "layers": [
                    _named({"type": "maxpool2d", "kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True},
                           f"{path}.branch4.0"),
                    _basic_conv(f"{path}.branch4.1", pool, 1)]}]]
    return {"type": "block", "name": path, "module": "Inception", "layers": [
        {"type": "parallel", "name": f"{path}.cat", "merge": "concat", "branches": branches}]}


def small_inception() -> dict[str, Any]:
    """A small GoogLeNet for 32×32: a 3×3 stem and a max-pool, two Inception modules
    (GoogLeNet's 3a/3b sizes), a max-pool, a third module, global pooling and a linear classifier."""
    return {"name": "Small Inception-style net", "input": {"channels": 3, "height": 32, "width": 32},
            "layers": [_basic_conv("conv1", 64, 3, 1),
                       _named({"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1}, "maxpool1"),
                       _inception("inception3a", 64, 96, 128, 16, 32, 32),
                       _inception("inception3b", 128, 128, 192, 32, 96, 64),
                       _named({"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1}, "maxpool3"),
                       _inception("inception4a", 192, 96, 208, 16, 48, 64),
                       _named({"type": "adaptive_avgpool2d", "output_size": 1}, "avgpool"),
                       _named(_FLAT, "flatten"), _named({"type": "linear", "out_features": 10}, "fc")]}


def small_densenet(growth: int = 12, blocks: tuple[int, ...] = (4, 4, 4), init: int = 24,
                   bn_size: int = 4) -> dict[str, Any]:
    """torchvision's DenseNet(growth_rate=12, block_config=(4, 4, 4), num_init_features=24,
    num_classes=10): every dense layer's output is concatenated to its input."""
    def layer(path: str) -> dict[str, Any]:
        return {"type": "block", "name": path, "module": "_DenseLayer", "layers": [
            _named(_BN, f"{path}.norm1"), _named(_RELU, f"{path}.relu1"),
            _named(_conv(bn_size * growth, 1, bias=False), f"{path}.conv1"),
            _named(_BN, f"{path}.norm2"), _named(_RELU, f"{path}.relu2"),
            _named(_conv(growth, 3, padding=1, bias=False), f"{path}.conv2")]}

    features: list[dict[str, Any]] = [
        _named(_conv(init, 7, stride=2, padding=3, bias=False), "features.conv0"), _named(_BN, "features.norm0"),
        _named(_RELU, "features.relu0"),
        _named({"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1}, "features.pool0")]
    channels = init
    for b, n in enumerate(blocks, start=1):
        path = f"features.denseblock{b}"
        features.append({"type": "block", "name": path, "module": "_DenseBlock", "layers": [
            {"type": "parallel", "name": f"{path}.cat{i}", "merge": "concat",
             "branches": [[], [layer(f"{path}.denselayer{i}")]]} for i in range(1, n + 1)]})
        channels += n * growth
        if b != len(blocks):
            channels //= 2
            t = f"features.transition{b}"
            features.append({"type": "block", "name": t, "module": "_Transition", "layers": [
                _named(_BN, f"{t}.norm"), _named(_RELU, f"{t}.relu"),
                _named(_conv(channels, 1, bias=False), f"{t}.conv"),
                _named({"type": "avgpool2d", "kernel_size": 2, "stride": 2}, f"{t}.pool")]})
    features.append(_named(_BN, "features.norm5"))
    return {"name": "DenseNet-style", "input": {"channels": 3, "height": 32, "width": 32},
            "layers": [{"type": "block", "name": "features", "layers": features}, _named(_RELU, "relu"),
                       _named({"type": "adaptive_avgpool2d", "output_size": 1}, "avgpool"),
                       _named(_FLAT, "flatten"), _named({"type": "linear", "out_features": 10}, "classifier")]}


_BROKEN = copy.deepcopy(DEFAULT_JSON)
_BROKEN["name"] = "Broken: Linear in_features"
_BROKEN["layers"][13] = {"type": "linear", "name": "FC1", "in_features": 4096, "out_features": 256}

PRESETS: dict[str, dict[str, Any]] = {
    "CIFAR-10 CNN (default)": DEFAULT_JSON,
    "LeNet-5 (1×32×32)": {
        "name": "LeNet-5",
        "input": {"channels": 1, "height": 32, "width": 32},
        "layers": [_conv(6, 5), {"type": "tanh"}, {"type": "avgpool2d", "kernel_size": 2, "stride": 2},
                   _conv(16, 5), {"type": "tanh"}, {"type": "avgpool2d", "kernel_size": 2, "stride": 2},
                   _FLAT, {"type": "linear", "out_features": 120}, {"type": "tanh"},
                   {"type": "linear", "out_features": 84}, {"type": "tanh"},
                   {"type": "linear", "out_features": 10}]},
    "VGG-style blocks": {
        "name": "VGG-style CNN",
        "input": {"channels": 3, "height": 32, "width": 32},
        "layers": [*_vgg_block(32), *_vgg_block(64), *_vgg_block(128), _FLAT,
                   {"type": "linear", "out_features": 256}, _RELU, {"type": "dropout", "p": 0.5},
                   {"type": "linear", "out_features": 10}]},
    "All-convolutional + global average pooling": {
        "name": "All-conv net with GAP",
        "input": {"channels": 3, "height": 32, "width": 32},
        "layers": [_conv(32, padding=1), _BN, _RELU, _conv(32, stride=2, padding=1), _BN, _RELU,
                   _conv(64, padding=1), _BN, _RELU, _conv(64, stride=2, padding=1), _BN, _RELU,
                   _conv(10, 1), {"type": "adaptive_avgpool2d", "output_size": 1}, _FLAT]},
    "Broken on purpose: Linear in_features": _BROKEN,
}

BROKEN_PRESET = "Broken on purpose: Linear in_features"

PRESETS.update({
    "ResNet-18 for CIFAR-10 (3×32×32)": resnet18(cifar=True),
    "ResNet-18 for ImageNet (3×224×224)": resnet18(cifar=False),
    "MobileNetV2-style (3×32×32)": mobilenet_v2(),
    "Small Inception-style net (3×32×32)": small_inception(),
    "DenseNet-style (3×32×32)": small_densenet(),
})
PRESETS[BROKEN_PRESET] = PRESETS.pop(BROKEN_PRESET)   # the broken one stays last in the list


def preset_json(name: str) -> dict[str, Any]:
    """A fresh copy of the preset's JSON (callers may change it)."""
    return copy.deepcopy(PRESETS[name])


def preset(name: str) -> Network:
    """Parse a preset (the broken one parses; `analyse` then rejects it with a teaching message)."""
    return from_json(copy.deepcopy(PRESETS[name]))
