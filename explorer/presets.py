"""Preset networks for teaching: the seed CNN and a few classics, plus one broken on purpose."""
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


def preset(name: str) -> Network:
    """Parse a preset (the broken one parses; `analyse` then rejects it with a teaching message)."""
    return from_json(copy.deepcopy(PRESETS[name]))
